"""A few calls that many HTTP tests make, and the key orders LiteLLM serialises."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from orgledger.adapters.runtime import Runtime
from tests.conftest import ADMIN

ORG_KEYS = [
    "organization_id", "organization_alias", "budget_id", "spend", "metadata", "models", "created_by",
    "updated_by", "users", "litellm_budget_table", "object_permission", "object_permission_id", "members",
    "teams", "created_at", "updated_at",
]
NEW_ORG_KEYS = [k for k in ORG_KEYS if k not in ("members", "teams")]
BUDGET_KEYS = [
    "budget_id", "soft_budget", "max_budget", "max_parallel_requests", "tpm_limit", "rpm_limit",
    "model_max_budget", "budget_duration",
]
MEMBERSHIP_KEYS = [
    "user_id", "organization_id", "user_role", "spend", "budget_id", "created_at", "updated_at", "user",
    "litellm_budget_table",
]
DELETED_MEMBERSHIP_KEYS = [*MEMBERSHIP_KEYS[:-1], "organization", "litellm_budget_table"]
USER_KEYS = [
    "user_id", "max_budget", "spend", "model_max_budget", "model_spend", "user_email", "user_alias", "models",
    "tpm_limit", "rpm_limit", "user_role", "organization_memberships", "teams", "sso_user_id",
    "budget_duration", "budget_reset_at", "metadata", "created_at", "updated_at", "object_permission",
]
ISO_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"


def head(runtime: Runtime) -> int:
    return runtime.ledger.recorder.max_notification_id() or 0


def new_org(client: TestClient, **body: Any) -> dict[str, Any]:
    body.setdefault("organization_alias", "marketing")
    response = client.post("/organization/new", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def add_members(client: TestClient, organization_id: str, *members: dict[str, Any]) -> dict[str, Any]:
    member: Any = members[0] if len(members) == 1 else list(members)
    response = client.post("/organization/member_add", json={"organization_id": organization_id, "member": member},
                           headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def info(client: TestClient, organization_id: str) -> dict[str, Any]:
    response = client.get("/organization/info", params={"organization_id": organization_id}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def detail(response: Any) -> str:
    """The message of a {"detail": {"error": ...}} answer."""
    body = response.json()
    assert list(body) == ["detail"] and list(body["detail"]) == ["error"], body
    return body["detail"]["error"]


def proxy_error(response: Any) -> dict[str, Any]:
    """The {"error": {message, type, param, code}} answer, checked for shape and code."""
    body = response.json()
    assert list(body) == ["error"], body
    assert list(body["error"]) == ["message", "type", "param", "code"], body
    assert body["error"]["code"] == str(response.status_code)
    return body["error"]


def validation(response: Any) -> list[dict[str, Any]]:
    """FastAPI's 422 list of errors."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert list(body) == ["detail"] and isinstance(body["detail"], list) and body["detail"], body
    for error in body["detail"]:
        assert {"type", "loc", "msg", "input"} <= set(error), error
    return body["detail"]
