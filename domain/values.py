"""Value objects carried inside events: typed msgspec Structs, encoded as they are stored."""

from __future__ import annotations

from typing import Any

import msgspec

ORG_ROLES = ("org_admin", "internal_user", "internal_user_viewer")
USER_ROLES = (
    "proxy_admin",
    "proxy_admin_viewer",
    "org_admin",
    "internal_user",
    "internal_user_viewer",
    "team",
    "customer",
)
MASTER_KEY_USER_ID = "default_user_id"


class Actor(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """Who made a change: a user id and the sha256 hex of the API key used (never the key)."""

    user_id: str
    api_key_hash: str | None = None
    request_id: str | None = None


class BudgetLimits(msgspec.Struct, frozen=True, omit_defaults=False):
    """The eight limit fields LiteLLM keeps in a budget row."""

    soft_budget: float | None = None
    max_budget: float | None = None
    max_parallel_requests: int | None = None
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    model_max_budget: dict[str, Any] | None = None
    budget_duration: str | None = None

    def merged(self, changes: BudgetLimits) -> BudgetLimits:
        """These limits with every non-null field of `changes` written over them."""
        updates = {k: v for k, v in msgspec.structs.asdict(changes).items() if v is not None}
        return msgspec.structs.replace(self, **updates)

    def as_dict(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


# The budget's fields, in LiteLLM's order: declared once, by the struct above.
BUDGET_FIELDS: tuple[str, ...] = BudgetLimits.__struct_fields__


class ObjectPermission(msgspec.Struct, frozen=True):
    """MCP servers and vector stores an organization may use."""

    object_permission_id: str
    mcp_servers: list[str] | None = None
    mcp_access_groups: list[str] | None = None
    mcp_tool_permissions: dict[str, list[str]] | None = None
    vector_stores: list[str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)
