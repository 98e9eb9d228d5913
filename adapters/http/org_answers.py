"""The /organization/* commands' answers, shaped from what each command decided (`Done`): the
aggregates as saved, or as they were for a delete, in the views' wire shapes."""

from __future__ import annotations

from typing import Any

from orgledger.application.commands import Done
from orgledger.domain.budget import Budget
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.user import User
from orgledger.projections import decided

from orgledger.adapters.http.queries import Row, without_permission

NEW_ORG_KEYS = (
    "organization_id", "organization_alias", "budget_id", "spend", "metadata", "models", "created_by",
    "updated_by", "users", "litellm_budget_table", "object_permission", "object_permission_id",
    "created_at", "updated_at",
)
# What member_delete answers besides the membership row: LiteLLM's relations, not loaded.
UNLOADED_RELATIONS = ("user", "organization", "litellm_budget_table")


def new_org(done: Done) -> Row:
    org = without_permission(decided.org(done.of(Organization)[0], done.of(Budget)[0], []))
    return {k: v for k, v in org.items() if k in NEW_ORG_KEYS}


def updated_org(done: Done, members: list[Row]) -> Row:
    return without_permission(decided.org(done.of(Organization)[0], done.of(Budget)[0], members))


def deleted_orgs(done: Done) -> list[Row]:
    """Each organization as it was, without its members (all removed with it)."""
    budgets = {b.budget_id: b for b in done.previous_of(Budget)}
    return [without_permission(decided.org(org, budgets[org.budget_id], []))
            for org in done.previous_of(Organization)]


def added_members(done: Done, organization_id: str) -> Row:
    return {
        "organization_id": organization_id,
        "updated_users": [decided.user(u) for u in done.of(User)],
        "updated_organization_memberships": [decided.membership(m) for m in done.of(Membership)],
    }


def updated_member(done: Done) -> Row:
    budgets = done.of(Budget)
    return decided.membership(done.of(Membership)[0], budgets[0] if budgets else None)


def removed_member(done: Done) -> dict[str, Any]:
    row = decided.membership(done.previous_of(Membership)[0])
    return {**{k: v for k, v in row.items() if k not in UNLOADED_RELATIONS},
            **dict.fromkeys(UNLOADED_RELATIONS)}
