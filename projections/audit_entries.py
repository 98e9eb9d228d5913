"""How each event reads as a LiteLLM audit entry: its table, object, action and values.

Events are described by class name, not by class, so events of aggregates that live on other
branches (KeyIssued, KeyRevoked) are described as soon as they are stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

ORG = "LiteLLM_OrganizationTable"
MEMBERSHIP = "LiteLLM_OrganizationMembership"
BUDGET = "LiteLLM_BudgetTable"
USER = "LiteLLM_UserTable"
KEY = "LiteLLM_VerificationToken"

# Fields every event has that say nothing about the object itself.
META_FIELDS = frozenset(
    {"timestamp", "originator_id", "originator_version", "originator_topic", "actor", "class_version"}
)
# Aggregate class name -> audit table, for events named nowhere below.
AGGREGATE_TABLES = {
    "Organization": ORG, "Membership": MEMBERSHIP, "Budget": BUDGET, "User": USER,
    "Key": KEY, "VirtualKey": KEY, "ApiKey": KEY,
}
TOKEN_FIELDS = ("token", "token_hash", "key_hash", "hashed_token", "api_key_hash")

# Aggregates that only index the log for commands (domain/email_index.py): no LiteLLM table holds
# them, and what they record is in the audit trail already, as the UserCreated they index.
BOOKKEEPING = frozenset({"UsersByEmail", "UsersByEmailBackfill"})

CREATED = {"OrgCreated", "BudgetCreated", "UserCreated", "MemberAdded", "MemberRejoined", "KeyIssued"}
DELETED = {"OrgDeleted", "MemberRemoved", "KeyRevoked"}


def is_bookkeeping(event_class: type) -> bool:
    return event_class.__qualname__.split(".")[0] in BOOKKEEPING


@dataclass(frozen=True)
class Change:
    """What one event did to one object, as the audit log shows it."""

    table_name: str
    object_id: str
    action: str
    # The fields the event set; None on deletions.
    values: dict[str, Any] | None
    organization_id: str | None = None
    budget_id: str | None = None


_PLAIN = frozenset({str, int, float, bool, type(None)})


def fields_of(event: Any) -> dict[str, Any]:
    """The event's own facts as plain JSON-able values."""
    # Most values are plain already; to_builtins is only needed for the others.
    return {k: v if type(v) in _PLAIN else msgspec.to_builtins(v)
            for k, v in vars(event).items() if k not in META_FIELDS}


# (event class, whether it starts its aggregate) -> (name, table, action); a rebuild asks for
# every event, and the answer depends on nothing else.
_kinds: dict[tuple[type, bool], tuple[str, str, str]] = {}


def _kind(cls: type, version: int) -> tuple[str, str, str]:
    key = (cls, version == 1)
    kind = _kinds.get(key)
    if kind is None:
        aggregate = cls.__qualname__.split(".")[0]
        table = AGGREGATE_TABLES.get(aggregate, f"orgledger_{aggregate}")
        kind = _kinds[key] = (cls.__name__, table, _action(cls.__name__, version))
    return kind


def describe(event: Any) -> Change:
    name, table, action = _kind(type(event), getattr(event, "originator_version", 0))
    f = fields_of(event)
    org_id = f.get("organization_id")
    if name == "OrgCreated":
        values = {**f, "spend": 0.0, "created_by": event.actor.user_id, "updated_by": event.actor.user_id}
        return Change(ORG, org_id, action, values, org_id, f["budget_id"])
    if name == "OrgUpdated":
        values = {k: v for k, v in f.items() if v is not None and k != "organization_id"}
        return Change(ORG, org_id, action, {**values, "updated_by": event.actor.user_id}, org_id)
    if table == BUDGET:
        limits = f.get("limits") or f.get("changes") or {}
        if action == "created":
            return Change(BUDGET, f["budget_id"], action, {"budget_id": f["budget_id"], **limits})
        changes = {k: v for k, v in limits.items() if v is not None}
        return Change(BUDGET, f["budget_id"], action, None if action == "deleted" else changes)
    if table == MEMBERSHIP:
        object_id = f"{org_id}:{f['user_id']}"
        values = {("user_role" if k == "role" else k): v for k, v in f.items()}
        if action == "updated":
            values = {k: v for k, v in values.items() if k not in ("organization_id", "user_id")}
        elif action == "created":
            values.setdefault("budget_id", None)
        return Change(MEMBERSHIP, object_id, action, None if action == "deleted" else values,
                      org_id, f.get("budget_id"))
    if table == USER:
        return Change(USER, f["user_id"], action, None if action == "deleted" else f)
    if table == KEY:
        token = next((f[k] for k in TOKEN_FIELDS if isinstance(f.get(k), str)), None)
        object_id = token or str(event.originator_id)
        return Change(KEY, object_id, action, None if action == "deleted" else f, org_id)
    object_id = org_id or next((str(v) for k, v in f.items() if k.endswith("_id") and v), None)
    return Change(table, object_id or str(event.originator_id), action,
                  None if action == "deleted" else f, org_id)


def _action(event_name: str, version: int) -> str:
    if event_name in CREATED:
        return "created"
    if event_name in DELETED:
        return "deleted"
    if version == 1:  # whatever its name, the event that starts an aggregate creates its row
        return "created"
    for suffix, action in (("Created", "created"), ("Issued", "created"), ("Added", "created"),
                           ("Deleted", "deleted"), ("Removed", "deleted"), ("Revoked", "deleted")):
        if event_name.endswith(suffix):
            return action
    return "updated"
