"""Bad input on every endpoint: a 4xx in LiteLLM's formats, and no event written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from orgledger.adapters.runtime import Runtime
from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import build_runtime
from tests.conftest import ADMIN, make_settings

from .api import add_members, head, new_org

BODY_ENDPOINTS = [
    ("POST", "/organization/new"),
    ("PATCH", "/organization/update"),
    ("DELETE", "/organization/delete"),
    ("POST", "/organization/info"),
    ("POST", "/organization/member_add"),
    ("PATCH", "/organization/member_update"),
    ("DELETE", "/organization/member_delete"),
]
JSON = {**ADMIN, "content-type": "application/json"}
MIB = 1024 * 1024


def assert_litellm_error(response: Any) -> None:
    """A 4xx in one of LiteLLM's three error bodies."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    if "error" in body:
        assert set(body["error"]) == {"message", "type", "param", "code"}
    else:
        assert list(body) == ["detail"]
        assert isinstance(body["detail"], list) or list(body["detail"]) == ["error"]


@pytest.fixture
def populated(client: TestClient, runtime: Runtime) -> Iterator[str]:
    """An organization with a member, so that bad input has something it could damage."""
    org_id = new_org(client)["organization_id"]
    add_members(client, org_id, {"user_id": "u-1", "role": "internal_user"})
    yield org_id


# Each test below runs its cases against one service (per backend): building a service per
# case would cost a quarter second each on SQLite.

MALFORMED = [b"{", b"{'a': 1}", b"[1,", b"\xff\xfe", b'{"a": NaN}']
NOT_AN_OBJECT = [b"", b"null", b"[]", b'"text"', b"42", b"{}"]


def test_malformed_json_is_422(client: TestClient, runtime: Runtime, populated: str) -> None:
    start = head(runtime)
    for method, path in BODY_ENDPOINTS:
        for raw in MALFORMED:
            response = client.request(method, path, content=raw, headers=JSON)
            assert_litellm_error(response)
            assert response.status_code == 422, (path, raw)
            assert response.json()["detail"][0]["type"] == "json_invalid", (path, raw)
    assert head(runtime) == start


def test_empty_or_non_object_bodies_are_422(client: TestClient, runtime: Runtime, populated: str) -> None:
    start = head(runtime)
    for method, path in BODY_ENDPOINTS:
        for raw in NOT_AN_OBJECT:
            response = client.request(method, path, content=raw, headers=JSON)
            assert response.status_code == 422, (path, raw, response.text)
            assert_litellm_error(response)
    assert head(runtime) == start


def test_bodies_over_one_mebibyte_are_413(client: TestClient, runtime: Runtime, populated: str) -> None:
    start = head(runtime)
    padding = "x" * MIB
    body = f'{{"organization_alias": "{padding}", "organization_id": "{populated}"}}'.encode()
    for method, path in BODY_ENDPOINTS:
        declared = client.request(method, path, content=body, headers=JSON)
        assert declared.status_code == 413, path
        assert list(declared.json()["detail"]) == ["error"]
        # Streamed without a Content-Length, the limit holds as well.
        chunks = iter([body[i:i + 65536] for i in range(0, len(body), 65536)])
        streamed = client.request(method, path, content=chunks, headers=JSON)
        assert streamed.status_code == 413, path
    assert head(runtime) == start


def test_a_body_of_exactly_one_mebibyte_is_read(client: TestClient) -> None:
    # The padding is a field orgledger ignores: every field it keeps is bounded far below 1 MiB.
    prefix, suffix = b'{"organization_alias": "a", "padding": "', b'"}'
    body = prefix + b"a" * (MIB - len(prefix) - len(suffix)) + suffix
    assert len(body) == MIB
    assert client.post("/organization/new", content=body, headers=JSON).status_code == 200


WRONG_TYPES = [
    ("POST", "/organization/new", {"organization_alias": 5}),
    ("POST", "/organization/new", {"organization_alias": "a", "models": "gpt-4"}),
    ("POST", "/organization/new", {"organization_alias": "a", "models": [1, {"x": 2}]}),
    ("POST", "/organization/new", {"organization_alias": "a", "metadata": ["x"]}),
    ("POST", "/organization/new", {"organization_alias": "a", "tpm_limit": "many"}),
    ("POST", "/organization/new", {"organization_alias": "a", "tpm_limit": 2**70}),
    ("POST", "/organization/new", {"organization_alias": "a", "max_budget": "nan"}),
    ("POST", "/organization/new", {"organization_alias": "a", "max_budget": "Infinity"}),
    ("POST", "/organization/new", {"organization_alias": "a", "object_permission": {"mcp_servers": "s"}}),
    ("POST", "/organization/new", {"organization_alias": "a", "model_rpm_limit": {"m": "x"}}),
    ("POST", "/organization/new", {"organization_alias": "a", "organization_id": 7}),
    ("PATCH", "/organization/update", {"organization_id": "{org}", "organization_alias": ["x"]}),
    ("PATCH", "/organization/update", {"organization_id": "{org}", "object_permission": "all"}),
    ("PATCH", "/organization/update", {"organization_id": "{org}", "max_budget": "inf"}),
    ("PATCH", "/organization/update", {"organization_id": ["{org}"]}),
    ("DELETE", "/organization/delete", {"organization_ids": "{org}"}),
    ("DELETE", "/organization/delete", {"organization_ids": [1]}),
    ("POST", "/organization/info", {"organizations": "{org}"}),
    ("POST", "/organization/member_add", {"organization_id": "{org}", "member": {"user_id": 1, "role": "org_admin"}}),
    ("POST", "/organization/member_add", {"organization_id": "{org}", "member": [[]]}),
    ("POST", "/organization/member_add", {"organization_id": 1, "member": {"user_id": "u", "role": "org_admin"}}),
    ("PATCH", "/organization/member_update", {"organization_id": "{org}", "user_id": "u-1", "max_budget_in_organization": "x"}),
    ("PATCH", "/organization/member_update", {"organization_id": "{org}", "user_id": "u-1", "role": 3}),
    ("DELETE", "/organization/member_delete", {"organization_id": "{org}", "user_id": ["u-1"]}),
]


def with_org(value: Any, org_id: str) -> Any:
    if isinstance(value, str):
        return value.replace("{org}", org_id)
    if isinstance(value, list):
        return [with_org(v, org_id) for v in value]
    if isinstance(value, dict):
        return {k: with_org(v, org_id) for k, v in value.items()}
    return value


def test_wrong_types_are_422(client: TestClient, runtime: Runtime, populated: str) -> None:
    start = head(runtime)
    for method, path, body in WRONG_TYPES:
        response = client.request(method, path, json=with_org(body, populated), headers=ADMIN)
        assert response.status_code == 422, (path, body, response.text)
        assert_litellm_error(response)
    assert head(runtime) == start


UNKNOWN_IDS = [
    ("PATCH", "/organization/update", {"organization_id": "missing", "organization_alias": "x"}, 404),
    ("DELETE", "/organization/delete", {"organization_ids": ["missing"]}, 404),
    ("POST", "/organization/member_add", {"organization_id": "missing", "member": {"user_id": "u", "role": "org_admin"}}, 404),
    ("PATCH", "/organization/member_update", {"organization_id": "missing", "user_id": "u-1", "role": "org_admin"}, 400),
    ("PATCH", "/organization/member_update", {"organization_id": "{org}", "user_id": "missing", "role": "org_admin"}, 404),
    ("DELETE", "/organization/member_delete", {"organization_id": "missing", "user_id": "u-1"}, 400),
    ("DELETE", "/organization/member_delete", {"organization_id": "{org}", "user_id": "missing"}, 404),
    ("POST", "/organization/new", {"organization_alias": "a", "budget_id": "missing"}, 400),
]


def test_unknown_ids_are_4xx(client: TestClient, runtime: Runtime, populated: str) -> None:
    start = head(runtime)
    for method, path, body, status in UNKNOWN_IDS:
        response = client.request(method, path, json=with_org(body, populated), headers=ADMIN)
        assert response.status_code == status, (path, body, response.text)
        assert_litellm_error(response)
    assert head(runtime) == start


def test_wrong_query_parameters_are_422(client: TestClient) -> None:
    for params in ({}, {"org_id": "x"}):
        response = client.get("/organization/info", params=params, headers=ADMIN)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "organization_id"]


# Random bodies: whatever a client sends, the answer is never a 500, a refusal writes nothing,
# and whatever was accepted can be read back (no event poisons the read models).

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
FIELDS = {
    "/organization/new": ["organization_alias", "organization_id", "models", "metadata", "max_budget", "soft_budget",
                          "tpm_limit", "budget_id", "object_permission", "model_rpm_limit", "model_max_budget",
                          "budget_duration"],
    "/organization/update": ["organization_id", "organization_alias", "models", "metadata", "max_budget", "spend",
                             "budget_id", "litellm_budget_table", "object_permission", "model_tpm_limit", "tags"],
    "/organization/delete": ["organization_ids"],
    "/organization/info": ["organizations"],
    "/organization/member_add": ["member", "organization_id", "max_budget_in_organization"],
    "/organization/member_update": ["organization_id", "user_id", "user_email", "role", "max_budget_in_organization"],
    "/organization/member_delete": ["organization_id", "user_id", "user_email"],
}
def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a valid value, so that requests get past validation and reach the ledger."""
    # Hypothesis favours small integers, so 0 (the valid branch) is the common case.
    return st.integers(0, 9).flatmap(lambda i: json_values if i == 9 else valid)


texts = st.text(max_size=6)
numbers = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**70), 2**70)
member = st.fixed_dictionaries({}, optional={
    "user_id": mostly(st.sampled_from(["u-1", "u-3"]) | texts),
    "user_email": mostly(st.sampled_from(["e@x.io", "f@x.io"])),
    "role": mostly(st.sampled_from(["org_admin", "internal_user", "internal_user_viewer"])),
})
plausible = {
    "organization_alias": mostly(texts),
    "organization_id": mostly(st.sampled_from(["org-fuzz", "org-fuzz", "missing"]) | texts),
    "organization_ids": mostly(st.lists(st.sampled_from(["org-other", "missing"]), max_size=2)),
    "organizations": mostly(st.lists(st.sampled_from(["org-fuzz", "missing"]), max_size=2)),
    "models": st.lists(texts | json_values, max_size=3),
    "metadata": mostly(st.dictionaries(texts, json_values, max_size=3)),
    "tags": mostly(st.lists(texts, max_size=2)),
    "model_rpm_limit": mostly(st.dictionaries(texts, st.integers(), max_size=2)),
    "model_tpm_limit": mostly(st.dictionaries(texts, st.integers(), max_size=2)),
    "model_max_budget": mostly(st.dictionaries(texts, json_values, max_size=2)),
    "budget_duration": mostly(texts),
    "budget_id": mostly(st.sampled_from([None, None, None, "unknown"])),
    "object_permission": mostly(st.fixed_dictionaries({}, optional={
        "mcp_servers": st.lists(texts, max_size=2), "vector_stores": st.lists(texts, max_size=2),
        "mcp_tool_permissions": st.dictionaries(texts, st.lists(texts, max_size=2), max_size=2)})),
    "litellm_budget_table": mostly(st.fixed_dictionaries({}, optional={"max_budget": numbers, "tpm_limit": st.integers()})),
    "member": mostly(member | st.lists(member, max_size=3)),
    "user_id": mostly(st.sampled_from(["u-1", "u-2"]) | texts),
    "user_email": mostly(st.sampled_from(["e@x.io", "f@x.io"])),
    "role": mostly(st.sampled_from(["org_admin", "internal_user", "proxy_admin"])),
    **{f: mostly(numbers) for f in ("max_budget", "soft_budget", "spend", "max_budget_in_organization")},
    "tpm_limit": mostly(st.integers(-(2**70), 2**70)),
}


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    method, path = draw(st.sampled_from(BODY_ENDPOINTS))
    # The first field is the one each endpoint requires (leaving it out is covered above);
    # each other field is there or not.
    required, *optional = FIELDS[path]
    body = draw(st.fixed_dictionaries({required: plausible.get(required, json_values)},
                                      optional={n: plausible.get(n, json_values) for n in optional}))
    return method, path, body


@pytest.fixture
def popo_service(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    # One backend is enough here: the read models are SQLite on both, and examples are many.
    runtime = build_runtime(make_settings("popo", tmp_path))
    with TestClient(build_app(runtime=runtime)) as client:
        yield client, runtime
    runtime.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=requests())
def test_random_bodies_never_fail_the_service(popo_service: tuple[TestClient, Runtime],
                                              request: tuple[str, str, dict[str, Any]]) -> None:
    client, runtime = popo_service
    method, path, body = request
    if head(runtime) == 0:
        new_org(client, organization_id="org-fuzz")
        new_org(client, organization_id="org-other")
    start = head(runtime)
    response = client.request(method, path, json=body, headers=ADMIN)
    event(f"{path} {response.status_code}")
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code != 200:
        assert_litellm_error(response)
        assert head(runtime) == start
    # Every accepted event can be read back by the views.
    runtime.sync()
    assert client.get("/organization/list", headers=ADMIN).status_code == 200
