"""Answers built from what a command decided (its aggregates), in the views' wire shapes.

A command's answer comes from the aggregates as it saved them, not from a read of the views
after it: the same rows the views show once they apply its events (the projections shape both
with organization_shapes.py), and the same answer when the views cannot catch up in time."""

from __future__ import annotations

from typing import Any

from orgledger.domain.budget import Budget
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.user import User

from orgledger.projections.base import iso
from orgledger.projections.organizations.shapes import (
    BUDGET_FIELDS,
    budget_shape,
    membership_shape,
    org_shape,
    user_shape,
)
from orgledger.projections.store import to_json


def _budget_row(budget: Budget) -> dict[str, Any]:
    limits = budget.limits.as_dict()
    limits["model_max_budget"] = to_json(limits["model_max_budget"])
    return {"budget_id": budget.budget_id, **{f: limits[f] for f in BUDGET_FIELDS}}


def org(org: Organization, budget: Budget, members: list[dict[str, Any]]) -> dict[str, Any]:
    permission = org.object_permission.as_dict() if org.object_permission else None
    row = {
        "organization_id": org.organization_id, "organization_alias": org.organization_alias,
        "budget_id": org.budget_id, "spend": org.spend, "metadata": to_json(org.metadata),
        "models": to_json(org.models), "object_permission": to_json(permission),
        "created_by": org.created_by, "updated_by": org.updated_by,
        "created_at": iso(org.created_on), "updated_at": iso(org.modified_on),
        **_budget_row(budget),
    }
    return org_shape(row, members)


def membership(member: Membership, budget: Budget | None = None) -> dict[str, Any]:
    shape = membership_shape({
        "user_id": member.user_id, "organization_id": member.organization_id,
        "user_role": member.role, "spend": 0.0, "budget_id": member.budget_id,
        "created_at": iso(member.joined_on), "updated_at": iso(member.modified_on),
    })
    if budget is not None:
        shape["litellm_budget_table"] = budget_shape(_budget_row(budget))
    return shape


def user(user: User) -> dict[str, Any]:
    return user_shape({
        "user_id": user.user_id, "user_email": user.user_email, "user_role": user.user_role,
        "models": to_json(user.models), "max_budget": user.max_budget,
        "metadata": to_json(user.metadata),
        "created_at": iso(user.created_on), "updated_at": iso(user.modified_on),
    })
