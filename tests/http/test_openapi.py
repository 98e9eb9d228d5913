"""GET /openapi.json: a valid OpenAPI 3.1 document that names things as LiteLLM does and tells the truth."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import ADMIN

# shared/ lies beside the checkout (CI puts a copy there); look upwards for it.
REFERENCE = next((p / "shared" / "reference" / "litellm-org-openapi.json" for p in Path(__file__).resolve().parents
                  if (p / "shared" / "reference" / "litellm-org-openapi.json").exists()), Path("missing"))
ERROR_BODIES = {"ProxyErrorResponse", "HTTPExceptionResponse", "HTTPValidationError"}


@pytest.fixture
def client(sqlite_client: TestClient) -> TestClient:
    # The document and the page do not depend on the backend: one real (SQLite) store is enough.
    return sqlite_client


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    return response.json()


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    if not REFERENCE.exists():
        pytest.skip(f"the reference document is not beside this checkout ({REFERENCE})")
    return json.loads(REFERENCE.read_text())


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(path, method): op for path, item in doc["paths"].items() for method, op in item.items()}


def refs(schema: Any) -> set[str]:
    """Names of the component schemas a schema refers to, directly or nested."""
    if isinstance(schema, dict):
        found = {schema["$ref"].rsplit("/", 1)[1]} if "$ref" in schema else set()
        return found.union(*(refs(v) for k, v in schema.items() if k != "$ref"))
    if isinstance(schema, list):
        return set().union(*(refs(v) for v in schema))
    return set()


def test_is_a_valid_openapi_3_1_document_served_without_a_key(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema, dangling $refs included


def test_organization_operations_match_the_reference(document: dict[str, Any], reference: dict[str, Any]) -> None:
    ours, theirs = operations(document), operations(reference)
    assert set(theirs) <= set(ours)
    for key, their_op in theirs.items():
        op = ours[key]
        # Same operationId, same request and success-response schema names, same query parameters.
        assert op["operationId"] == their_op["operationId"], key
        assert refs(op.get("requestBody")) == refs(their_op.get("requestBody")), key
        assert refs(op["responses"]["200"]) == refs(their_op["responses"]["200"]), key
        assert [p["name"] for p in op.get("parameters", [])] == [p["name"] for p in their_op.get("parameters", [])]
        assert op.get("deprecated", False) == their_op.get("deprecated", False), key


def test_schema_names_come_from_the_reference(document: dict[str, Any], reference: dict[str, Any]) -> None:
    ours = set(document["components"]["schemas"])
    identity = {"NewUserRequest", "NewUserResponse", "UserInfoResponse", "UserKey", "GenerateKeyRequest",
                "GenerateKeyResponse", "KeyRequest", "KeyDeleteResponse"}
    audit = {"AuditLogResponse", "PaginatedAuditLogResponse"}
    assert ours - set(reference["components"]["schemas"]) == {"HealthResponse", *identity, *audit}
    assert ERROR_BODIES <= ours


def test_every_served_route_is_documented_and_nothing_else(client: TestClient, document: dict[str, Any]) -> None:
    served = {
        (re.sub(r"{(\w+):\w+}", r"{\1}", route.path), method.lower())
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.include_in_schema
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = set(operations(document))
    assert served - documented == set(), "add an Operation for these routes (see adapters/http/openapi/operations.py)"
    assert documented - served == set(), "these documented operations are not served"


def test_secured_operations_name_the_key_headers_and_health_is_open(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {**schemes["APIKeyHeader"], "type": "apiKey", "in": "header",
                                       "name": "Authorization"}
    assert "x-litellm-api-key" in schemes["APIKeyHeader"]["description"]
    assert schemes["LiteLLMKeyHeader"]["name"] == "x-litellm-api-key"
    for (path, _), op in operations(document).items():
        if path.startswith("/health/"):
            assert op["security"] == [] and "401" not in op["responses"]
        else:
            assert {"APIKeyHeader": []} in op["security"], path
            assert "ProxyErrorResponse" in refs(op["responses"]["401"]), path
    # /metrics is open by default ({}), and takes an admin key when configured to.
    assert {} in document["paths"]["/metrics"]["get"]["security"]


def test_every_input_error_is_documented_with_its_body(document: dict[str, Any]) -> None:
    for key, op in operations(document).items():
        # A path parameter alone (GET /audit/{id}) is any string: nothing there to reject with 422.
        if "requestBody" in op or any(p["in"] == "query" for p in op.get("parameters", ())):
            assert refs(op["responses"]["422"]) == {"HTTPValidationError"}, key
        if "requestBody" in op:
            assert refs(op["responses"]["413"]) == {"HTTPExceptionResponse"}, key
        for status, response in op["responses"].items():
            if status.startswith("4"):
                assert refs(response) and refs(response) <= ERROR_BODIES, (key, status)


def conforms(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """Raises unless `body` is valid against the documented schema for that response."""
    op = document["paths"][path][method]
    schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
    OAS31Validator({**schema, "components": document["components"]},
                   format_checker=OAS31Validator.FORMAT_CHECKER).validate(body)


def test_real_answers_conform_to_the_documented_schemas(client: TestClient, document: dict[str, Any]) -> None:
    def call(method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = client.request(method, path, **kw)
        assert response.status_code == status, response.text
        conforms(document, path, method.lower(), status, response.json())
        return response.json()

    # Admin creates an organization and adds members, one by email.
    org = call("POST", "/organization/new", json={"organization_alias": "docs", "max_budget": 5}, headers=ADMIN)
    oid = org["organization_id"]
    members = [{"user_id": "ann", "role": "org_admin"}, {"user_email": "bo@example.com", "role": "internal_user"}]
    call("POST", "/organization/member_add", json={"organization_id": oid, "member": members}, headers=ADMIN)
    call("PATCH", "/organization/member_update",
         json={"organization_id": oid, "user_id": "ann", "role": "internal_user", "max_budget_in_organization": 2},
         headers=ADMIN)
    call("PATCH", "/organization/update", json={"organization_id": oid, "models": ["gpt-4o"]}, headers=ADMIN)
    # Every read answers in its documented shape.
    info = call("GET", "/organization/info", params={"organization_id": oid}, headers=ADMIN)
    assert len(info["members"]) == 2
    call("GET", "/organization/list", headers=ADMIN)
    call("POST", "/organization/info", json={"organizations": [oid]}, headers=ADMIN)
    call("DELETE", "/organization/member_delete", json={"organization_id": oid, "user_id": "ann"}, headers=ADMIN)
    call("DELETE", "/organization/delete", json={"organization_ids": [oid]}, headers=ADMIN)
    call("GET", "/health/liveliness")
    call("GET", "/health/liveness")
    call("GET", "/health/readiness")
    # Errors answer with their documented bodies too.
    call("GET", "/organization/list", 401)
    call("GET", "/organization/info", 404, params={"organization_id": "nope"}, headers=ADMIN)
    call("POST", "/organization/new", 422, json={"models": []}, headers=ADMIN)
    call("POST", "/organization/new", 400, json={"organization_alias": "x", "max_budget": -1}, headers=ADMIN)
    call("POST", "/organization/member_add", 404,
         json={"organization_id": "nope", "member": {"user_id": "ann", "role": "org_admin"}}, headers=ADMIN)


def test_request_schemas_come_from_the_models_that_parse_requests(document: dict[str, Any]) -> None:
    from orgledger.adapters.http import org_requests as rq

    schemas = document["components"]["schemas"]
    for model in (rq.NewOrganizationRequest, rq.OrganizationMemberUpdateRequest, rq.DeleteOrganizationRequest):
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields)
    assert schemas["NewOrganizationRequest"]["required"] == ["organization_alias"]
