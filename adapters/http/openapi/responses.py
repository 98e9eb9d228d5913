"""Response shapes, as LiteLLM names them, for the OpenAPI document only.

The endpoints build their JSON from the read models; these models describe that JSON so the
document can name each schema the way LiteLLM's own document does. Nothing validates against them
at run time (a test checks real responses against the generated schemas instead).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from orgledger.adapters.http.org_requests import LiteLLM_BudgetTable


class LiteLLM_ObjectPermissionTable(BaseModel):
    object_permission_id: str
    mcp_servers: list[str] | None = []
    mcp_access_groups: list[str] | None = []
    mcp_tool_permissions: dict[str, list[str]] | None = None
    vector_stores: list[str] | None = []


class LiteLLM_OrganizationMembershipTable(BaseModel):
    user_id: str
    organization_id: str
    user_role: str | None = None
    spend: float = 0.0
    budget_id: str | None = None
    created_at: datetime
    updated_at: datetime
    # LiteLLM's Optional[Any]. Any already takes null, and `Any | None` would be written as
    # anyOf [{}, null], which openapi-generator -g python decodes through a model named "AnyOf"
    # that does not exist; plain Any is written {} (same values, null default).
    user: Any = None
    litellm_budget_table: LiteLLM_BudgetTable | None = None


class LiteLLM_UserTable(BaseModel):
    user_id: str
    max_budget: float | None = None
    spend: float = 0.0
    # LiteLLM's default is {}; generators (openapi-python-client) take only null as the default
    # of a nullable object, and orgledger always sends the field anyway.
    model_max_budget: dict[str, Any] | None = None
    model_spend: dict[str, Any] | None = None
    user_email: str | None = None
    user_alias: str | None = None
    models: list[Any] = []
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    user_role: str | None = None
    organization_memberships: list[LiteLLM_OrganizationMembershipTable] | None = None
    teams: list[str] = []
    sso_user_id: str | None = None
    budget_duration: str | None = None
    budget_reset_at: datetime | None = None
    metadata: dict[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    object_permission: LiteLLM_ObjectPermissionTable | None = None


class LiteLLM_TeamTable(BaseModel):
    """A LiteLLM team. orgledger has no teams, so `teams` lists are always empty."""

    team_id: str
    team_alias: str | None = None
    organization_id: str | None = None


class _OrganizationShape(BaseModel):
    organization_alias: str | None = None
    budget_id: str
    spend: float = 0.0
    metadata: dict[str, Any] | None = None
    models: list[str]
    created_by: str
    updated_by: str
    users: list[LiteLLM_UserTable] | None = None
    litellm_budget_table: LiteLLM_BudgetTable | None = None
    object_permission: LiteLLM_ObjectPermissionTable | None = None
    object_permission_id: str | None = None
    created_at: datetime
    updated_at: datetime


class NewOrganizationResponse(_OrganizationShape):
    organization_id: str


class LiteLLM_OrganizationTableWithMembers(_OrganizationShape):
    organization_id: str | None = None
    members: list[LiteLLM_OrganizationMembershipTable] = []
    teams: list[LiteLLM_TeamTable] = []


class OrganizationAddMemberResponse(BaseModel):
    organization_id: str
    updated_users: list[LiteLLM_UserTable]
    updated_organization_memberships: list[LiteLLM_OrganizationMembershipTable]


class BudgetRow(LiteLLM_BudgetTable):
    """A full budget row, as the deprecated POST /organization/info returns it."""

    budget_id: str
    budget_reset_at: datetime | None = None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class OrganizationRowWithBudget(BaseModel):
    """A raw organization row with its budget (deprecated POST /organization/info); relations null."""

    organization_id: str
    organization_alias: str
    budget_id: str
    metadata: dict[str, Any]
    models: list[str]
    spend: float
    model_spend: dict[str, Any]
    object_permission_id: str | None = None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    litellm_budget_table: BudgetRow | None = None


class OrganizationMembershipRow(BaseModel):
    """The membership row that DELETE /organization/member_delete removed."""

    user_id: str
    organization_id: str
    user_role: str | None = None
    spend: float | None = None
    budget_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Always null here (LiteLLM's raw row, relations not loaded), but typed as what LiteLLM puts
    # there when it does load them, so generated clients have a type to decode.
    user: LiteLLM_UserTable | None = None
    organization: OrganizationRowWithBudget | None = None
    litellm_budget_table: LiteLLM_BudgetTable | None = None


class HealthResponse(BaseModel):
    status: str = Field(examples=["healthy"])
    db: str = Field(examples=["connected"])
    log_head: int | None = None
    projections: dict[str, int] | None = None
    error: str | None = None
