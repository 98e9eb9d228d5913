"""Request bodies and query strings, as LiteLLM declares them. Parsing happens here, at the edge."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from orgledger.domain.values import BUDGET_FIELDS, ORG_ROLES, USER_ROLES

from orgledger.adapters.http.errors import RequestValidationError, validation_errors
from orgledger.adapters.http.limits import (
    KEY_NAMES,
    MAX_LIST_ITEMS,
    MAX_MEMBERS_PER_CALL,
    Email,
    Id,
    IdList,
    JsonObject,
    Key,
    Money,
    Text,
    TextList,
)

OrgRole = Literal["org_admin", "internal_user", "internal_user_viewer"]
UserRole = Literal[
    "proxy_admin", "proxy_admin_viewer", "org_admin", "internal_user", "internal_user_viewer",
    "team", "customer",
]
assert set(OrgRole.__args__) == set(ORG_ROLES) and set(UserRole.__args__) == set(USER_ROLES)


class LitellmUserRoles(str, Enum):
    """member_update's role is this enum in LiteLLM, so a bad value is a 422 of type "enum"."""

    proxy_admin = "proxy_admin"
    proxy_admin_viewer = "proxy_admin_viewer"
    org_admin = "org_admin"
    internal_user = "internal_user"
    internal_user_viewer = "internal_user_viewer"
    team = "team"
    customer = "customer"


# LiteLLM's BigInt columns; a larger number cannot be stored in any read model.
BigInt = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
# Per-model limits, kept in metadata: one entry per model name.
ModelLimits = Annotated[dict[Key, BigInt], Field(max_length=MAX_LIST_ITEMS, json_schema_extra=KEY_NAMES)]

# LiteLLM keeps these in metadata rather than in columns of their own.
METADATA_FIELDS = (
    "model_rpm_limit", "model_tpm_limit", "rpm_limit_type", "tpm_limit_type", "guardrails", "tags",
    "enforced_params", "temp_budget_increase", "temp_budget_expiry",
)


class Body(BaseModel):
    # NaN and infinity have no JSON form: stored, they would silently come back as null.
    model_config = ConfigDict(extra="ignore", protected_namespaces=(), allow_inf_nan=False)


class LiteLLM_BudgetTable(Body):
    budget_id: Id | None = None
    soft_budget: Money | None = None
    max_budget: Money | None = None
    max_parallel_requests: BigInt | None = None
    tpm_limit: BigInt | None = None
    rpm_limit: BigInt | None = None
    model_max_budget: JsonObject | None = None
    budget_duration: Text | None = None

    def limits(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in BUDGET_FIELDS}


class LiteLLM_ObjectPermissionBase(Body):
    mcp_servers: TextList | None = None
    mcp_access_groups: TextList | None = None
    mcp_tool_permissions: Annotated[dict[Key, TextList], Field(max_length=MAX_LIST_ITEMS, json_schema_extra=KEY_NAMES)] | None = None
    vector_stores: TextList | None = None


class NewOrganizationRequest(LiteLLM_BudgetTable):
    organization_id: Id | None = None
    organization_alias: Text
    # LiteLLM declares an untyped list but stores String[]; anything else is refused here.
    models: TextList = Field(default_factory=list)
    metadata: JsonObject | None = None
    model_rpm_limit: ModelLimits | None = None
    model_tpm_limit: ModelLimits | None = None
    object_permission: LiteLLM_ObjectPermissionBase | None = None

    def full_metadata(self) -> dict[str, Any]:
        metadata = dict(self.metadata or {})
        for name in ("model_rpm_limit", "model_tpm_limit"):
            if getattr(self, name) is not None:
                metadata[name] = getattr(self, name)
        return metadata


class LiteLLM_OrganizationTableUpdate(LiteLLM_BudgetTable):
    organization_id: Id
    organization_alias: Text | None = None
    spend: float | None = None
    metadata: JsonObject | None = None
    models: TextList | None = None
    updated_by: Text | None = Field(None, description="Ignored: the actor is the caller (or LiteLLM-Changed-By).")
    object_permission: LiteLLM_ObjectPermissionBase | None = None
    model_rpm_limit: ModelLimits | None = None
    model_tpm_limit: ModelLimits | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        # The admin UI nests budget fields; LiteLLM lifts the non-null ones to the top.
        nested = data.pop("litellm_budget_table", None)
        if isinstance(nested, dict):
            data.update({k: v for k, v in nested.items() if k in BUDGET_FIELDS and v is not None})
        hoisted = {k: data.pop(k) for k in METADATA_FIELDS if data.get(k) is not None}
        if hoisted:
            metadata = data.get("metadata")
            data["metadata"] = {**(metadata if isinstance(metadata, dict) else {}), **hoisted}
        return data


class DeleteOrganizationRequest(Body):
    organization_ids: IdList


class OrganizationRequest(Body):
    # [] is LiteLLM's 400 (deprecated_info says so), not a 422: the bound is the document's only.
    organizations: IdList = Field(json_schema_extra={"minItems": 1})


# What _one_of_id_or_email accepts, for the document: a user_id or else a user_email that is a
# string. Written as if/else rather than anyOf of subschemas with properties, which
# openapi-generator turns into a union model that loses the other fields.
ID_OR_EMAIL = {"if": {"required": ["user_id"], "properties": {"user_id": {"type": "string"}}},
               "else": {"required": ["user_email"], "properties": {"user_email": {"type": "string"}}}}


def _one_of_id_or_email(data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValueError("input needs to be a dictionary")
    if data.get("user_id") is None and data.get("user_email") is None:
        raise ValueError("Either user id or user email must be provided")
    return data


class OrgMember(Body):
    model_config = ConfigDict(json_schema_extra=ID_OR_EMAIL)

    user_id: Id | None = None
    user_email: Email | None = None
    role: OrgRole

    _check = model_validator(mode="before")(classmethod(lambda cls, data: _one_of_id_or_email(data)))


class OrganizationMemberAddRequest(Body):
    organization_id: Id
    # Validated one by one in members(): LiteLLM reports a member's errors at the body's top level.
    member: Any = Field(json_schema_extra={
        "anyOf": [{"type": "array", "items": {"$ref": "#/components/schemas/OrgMember"},
                   "maxItems": MAX_MEMBERS_PER_CALL},
                  {"$ref": "#/components/schemas/OrgMember"}]})
    max_budget_in_organization: float | None = Field(None, description="Accepted and ignored, as LiteLLM does.")

    @field_validator("member")
    @classmethod
    def _bounded(cls, member: Any) -> Any:
        if isinstance(member, list) and len(member) > MAX_MEMBERS_PER_CALL:
            # pydantic's own error for a list over its max_length.
            raise PydanticCustomError(
                "too_long", "List should have at most {max_length} items after validation, not {actual_length}",
                {"field_type": "List", "max_length": MAX_MEMBERS_PER_CALL, "actual_length": len(member)})
        return member

    def members(self) -> list[OrgMember]:
        """The members, validated one by one: a refusal is located at the body's top level, as
        LiteLLM locates it."""
        items = self.member if isinstance(self.member, list) else [self.member]
        try:
            return [OrgMember.model_validate(item) for item in items]
        except ValidationError as e:
            raise RequestValidationError(validation_errors(e, "body")) from None


class OrganizationMemberDeleteRequest(Body):
    model_config = ConfigDict(json_schema_extra=ID_OR_EMAIL)

    organization_id: Id
    user_id: Id | None = None
    user_email: Email | None = None

    _check = model_validator(mode="before")(classmethod(lambda cls, data: _one_of_id_or_email(data)))


class OrganizationMemberUpdateRequest(OrganizationMemberDeleteRequest):
    max_budget_in_organization: Money | None = None
    # LiteLLM's enum, of which only the organization roles are taken (the others are a 422).
    role: LitellmUserRoles | None = Field(None, json_schema_extra={"anyOf": [
        {"type": "string", "enum": list(ORG_ROLES)}, {"type": "null"}]})

    @field_validator("role")
    @classmethod
    def _role_within_org(cls, role: LitellmUserRoles | None) -> str | None:
        if role is None:
            return None
        if role.value not in ORG_ROLES:
            raise ValueError(f"Invalid role. Must be one of: {list(ORG_ROLES)}")
        return role.value


class InfoQuery(Body):
    organization_id: Id


class ListQuery(Body):
    org_id: Id | None = None
    org_alias: Text | None = None
