"""How the organizations view's rows read in LiteLLM's answers: organizations, budgets,
memberships and users, shaped as /organization/info, /organization/list and /user/info show them."""

from __future__ import annotations

from typing import Any

from orgledger.domain.values import BUDGET_FIELDS

from orgledger.projections.store import from_json



def budget_shape(row: dict[str, Any]) -> dict[str, Any]:
    shape: dict[str, Any] = {"budget_id": row["budget_id"]}
    for f in BUDGET_FIELDS:
        shape[f] = from_json(row[f]) if f == "model_max_budget" else row[f]
    return shape


def membership_shape(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_id": row["user_id"],
        "organization_id": row["organization_id"],
        "user_role": row["user_role"],
        "spend": row["spend"],
        "budget_id": row["budget_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "user": None,
        "litellm_budget_table": None,
    }


def org_shape(row: dict[str, Any], members: list[dict[str, Any]]) -> dict[str, Any]:
    permission = from_json(row["object_permission"])
    return {
        "organization_id": row["organization_id"],
        "organization_alias": row["organization_alias"],
        "budget_id": row["budget_id"],
        "spend": row["spend"],
        "metadata": from_json(row["metadata"]),
        "models": from_json(row["models"]),
        "created_by": row["created_by"],
        "updated_by": row["updated_by"],
        "users": None,
        "litellm_budget_table": budget_shape(row),
        "object_permission": permission,
        "object_permission_id": permission["object_permission_id"] if permission else None,
        "members": members,
        "teams": [],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def raw_org_shape(row: dict[str, Any], budget: dict[str, Any] | None) -> dict[str, Any]:
    permission = from_json(row["object_permission"])
    budget_row = None
    if budget is not None:
        budget_row = {
            **budget_shape(budget),
            "budget_reset_at": None,
            "created_at": budget["created_at"],
            "created_by": budget["created_by"],
            "updated_at": budget["updated_at"],
            "updated_by": budget["updated_by"],
            "organization": None, "keys": None, "end_users": None, "tags": None,
            "team_membership": None, "organization_membership": None,
        }
    return {
        "organization_id": row["organization_id"],
        "organization_alias": row["organization_alias"],
        "budget_id": row["budget_id"],
        "metadata": from_json(row["metadata"]),
        "models": from_json(row["models"]),
        "spend": row["spend"],
        "model_spend": {},
        "object_permission_id": permission["object_permission_id"] if permission else None,
        "created_at": row["created_at"],
        "created_by": row["created_by"],
        "updated_at": row["updated_at"],
        "updated_by": row["updated_by"],
        "litellm_budget_table": budget_row,
        "teams": None, "users": None, "keys": None, "members": None, "object_permission": None,
    }


def user_shape(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_id": row["user_id"],
        "max_budget": row["max_budget"],
        "spend": 0.0,
        "model_max_budget": {},
        "model_spend": {},
        "user_email": row["user_email"],
        "user_alias": None,
        "models": from_json(row["models"]),
        "tpm_limit": None,
        "rpm_limit": None,
        "user_role": row["user_role"],
        "organization_memberships": None,
        "teams": [],
        "sso_user_id": None,
        "budget_duration": None,
        "budget_reset_at": None,
        "metadata": from_json(row["metadata"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "object_permission": None,
    }
