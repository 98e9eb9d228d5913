"""The user and key operations in /openapi.json: real answers conform, and the LiteLLM fields
orgledger ignores say so."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient

from orgledger.adapters.http import identity_requests as rq
from tests.conftest import ADMIN
from tests.http.test_openapi import client, conforms, document  # noqa: F401  (fixtures)

HONOURED = {"user_id", "user_email", "user_role", "models", "max_budget", "metadata", "auto_create_key",
            "key_alias", "duration"}


def test_new_user_marks_exactly_the_fields_orgledger_ignores(document: dict[str, Any]) -> None:
    properties = document["components"]["schemas"]["NewUserRequest"]["properties"]
    ignored = {name for name, schema in properties.items() if schema.get("x-orgledger-ignored")}
    assert ignored == set(rq.NewUserRequest.model_fields) - HONOURED
    assert {"aliases", "duration", "budget_duration", "team_id", "spend", "tpm_limit", "rpm_limit"} - HONOURED <= ignored
    assert all("ignored by orgledger" in properties[name]["description"] for name in ignored)


def test_identity_answers_conform_to_the_documented_schemas(client: TestClient, document: dict[str, Any]) -> None:
    def call(method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = client.request(method, path, **kw)
        assert response.status_code == status, response.text
        conforms(document, path, method.lower(), status, response.json())
        return response.json()

    # Admin creates users, with and without a key, and issues and deletes keys.
    user = call("POST", "/user/new", json={"user_id": "ann", "duration": "1h", "aliases": {}}, headers=ADMIN)
    call("POST", "/user/new", json={"auto_create_key": False}, headers=ADMIN)
    short = call("POST", "/key/generate", json={"user_id": "ann", "duration": "1s", "key_alias": "ci"},
                 headers=ADMIN)
    call("GET", "/user/info", params={"user_id": "ann"}, headers=ADMIN)
    call("POST", "/key/delete", json={"keys": [user["token"]]}, headers=ADMIN)
    # Errors answer with their documented bodies too.
    call("POST", "/user/new", 400, json={"user_id": "ann"}, headers=ADMIN)
    call("POST", "/user/new", 422, json={"tpm_limit": "x"}, headers=ADMIN)
    call("POST", "/key/generate", 404, json={"organization_id": "nope"}, headers=ADMIN)
    call("POST", "/key/delete", 404, json={"keys": [user["token"]]}, headers=ADMIN)
    call("GET", "/user/info", 404, params={"user_id": "nobody"}, headers=ADMIN)
    call("GET", "/user/info", 401)
    time.sleep(1.05)
    call("POST", "/key/generate", 400, json={}, headers={"Authorization": f"Bearer {short['key']}"})
