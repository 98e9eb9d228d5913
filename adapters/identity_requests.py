"""Request bodies and query strings of the user and key endpoints, as LiteLLM declares them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .requests import Body, LiteLLM_ObjectPermissionBase, UserRole

IGNORED = "Accepted for LiteLLM compatibility and ignored by orgledger."


def ignored(**schema: Any) -> Any:
    return Field(None, description=IGNORED, json_schema_extra={"x-orgledger-ignored": True, **schema})


class NewUserRequest(Body):
    user_id: str | None = Field(None, description="Generated (a uuid4) when absent.")
    user_email: str | None = None
    user_role: UserRole | None = Field(None, description="The global role; internal_user when absent.")
    models: list[str] | None = None
    max_budget: float | None = None
    metadata: dict[str, Any] | None = None
    auto_create_key: bool = Field(True, description="Issue a first key for the user and return it.")
    key_alias: str | None = Field(None, description="The alias of the key created with the user.")
    duration: str | None = Field(None, description="Lifetime of the key created with the user, e.g. 30d.")
    # LiteLLM's other documented fields: typed, so a wrong type is still a 422.
    user_alias: str | None = ignored()
    teams: list[Any] | None = ignored()
    team_id: str | None = ignored()
    organizations: list[str] | None = ignored()
    send_invite_email: bool | None = ignored()
    sso_user_id: str | None = ignored()
    password: str | None = ignored()
    aliases: dict[str, Any] | None = ignored()
    spend: float | None = ignored()
    budget_duration: str | None = ignored()
    tpm_limit: int | None = ignored()
    rpm_limit: int | None = ignored()
    max_parallel_requests: int | None = ignored()
    allowed_cache_controls: list[Any] | None = ignored()
    config: dict[str, Any] | None = ignored()
    permissions: dict[str, Any] | None = ignored()
    model_max_budget: dict[str, Any] | None = ignored()
    model_rpm_limit: dict[str, Any] | None = ignored()
    model_tpm_limit: dict[str, Any] | None = ignored()
    guardrails: list[str] | None = ignored()
    policies: list[str] | None = ignored()
    prompts: list[str] | None = ignored()
    blocked: bool | None = ignored()
    agent_id: str | None = ignored()
    object_permission: LiteLLM_ObjectPermissionBase | None = ignored()


class GenerateKeyRequest(Body):
    user_id: str | None = Field(None, description="The key's owner; the caller when a non-admin omits it.")
    key_alias: str | None = None
    models: list[str] | None = None
    organization_id: str | None = Field(None, description="Deleting this organization revokes the key.")
    duration: str | None = Field(None, description="e.g. 30s, 10m, 1h, 7d, 1mo (calendar months); no expiry when absent.")


class KeyRequest(Body):
    keys: list[str] = Field(description="Raw keys (sk-...) or their tokens (sha256 hex).")


class UserInfoQuery(Body):
    user_id: str | None = Field(None, description="The caller's own id when absent.")
