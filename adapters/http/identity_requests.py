"""Request bodies and query strings of the user and key endpoints, as LiteLLM declares them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from orgledger.adapters.http.limits import Duration, Email, Id, IdList, JsonObject, Money, Text, TextList
from orgledger.adapters.http.org_requests import Body, LiteLLM_ObjectPermissionBase, UserRole

IGNORED = "Accepted for LiteLLM compatibility and ignored by orgledger."


def ignored(**schema: Any) -> Any:
    return Field(None, description=IGNORED, json_schema_extra={"x-orgledger-ignored": True, **schema})


class NewUserRequest(Body):
    user_id: Id | None = Field(None, description="Generated (a uuid4) when absent.")
    user_email: Email | None = None
    user_role: UserRole | None = Field(None, description="The global role; internal_user when absent.")
    models: TextList | None = None
    max_budget: Money | None = None
    metadata: JsonObject | None = None
    auto_create_key: bool = Field(True, description="Issue a first key for the user and return it.")
    key_alias: Text | None = Field(None, description="The alias of the key created with the user.")
    duration: Duration | None = Field(None, description="Lifetime of the key created with the user, e.g. 30d.")
    # LiteLLM's other documented fields: typed, so a wrong type is still a 422.
    user_alias: Text | None = ignored()
    teams: list[Any] | None = ignored()
    team_id: Id | None = ignored()
    organizations: IdList | None = ignored()
    send_invite_email: bool | None = ignored()
    sso_user_id: Id | None = ignored()
    password: Text | None = ignored()
    aliases: JsonObject | None = ignored()
    spend: float | None = ignored()
    budget_duration: Text | None = ignored()
    tpm_limit: int | None = ignored()
    rpm_limit: int | None = ignored()
    max_parallel_requests: int | None = ignored()
    allowed_cache_controls: list[Any] | None = ignored()
    config: JsonObject | None = ignored()
    permissions: JsonObject | None = ignored()
    model_max_budget: JsonObject | None = ignored()
    model_rpm_limit: JsonObject | None = ignored()
    model_tpm_limit: JsonObject | None = ignored()
    guardrails: TextList | None = ignored()
    policies: TextList | None = ignored()
    prompts: TextList | None = ignored()
    blocked: bool | None = ignored()
    agent_id: Id | None = ignored()
    object_permission: LiteLLM_ObjectPermissionBase | None = ignored()


class GenerateKeyRequest(Body):
    user_id: Id | None = Field(None, description="The key's owner; the caller when a non-admin omits it.")
    key_alias: Text | None = None
    models: TextList | None = None
    organization_id: Id | None = Field(None, description="Deleting this organization revokes the key.")
    duration: Duration | None = Field(None, description="e.g. 30s, 10m, 1h, 7d, 1mo (calendar months); no expiry when absent.")


class KeyRequest(Body):
    keys: IdList = Field(description="Raw keys (sk-...) or their tokens (sha256 hex).")


class UserInfoQuery(Body):
    user_id: Id | None = Field(None, description="The caller's own id when absent.")
