"""Hostile input at the edge (issue 11): bounded ids, emails, strings, lists, members and nesting,
control characters, pages, content types and unknown routes. Every refusal is a 4xx in LiteLLM's
format and writes no event; the service takes an ordinary write afterwards, on every backend."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.runtime import Runtime
from tests.conftest import ADMIN

from .api import add_members, head, new_org, validation

LONG = "x" * 3000
CONTROL_CHARACTERS = ["\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\x9f"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def org_admin_key(client: TestClient, org_id: str, user_id: str = "oadmin") -> str:
    """A virtual key of a user who is org_admin of `org_id`."""
    user = client.post("/user/new", json={"user_id": user_id}, headers=ADMIN)
    assert user.status_code == 200, user.text
    add_members(client, org_id, {"user_id": user_id, "role": "org_admin"})
    return str(user.json()["key"])


def assert_ordinary_write_works(client: TestClient, org_id: str) -> None:
    fresh = f"after-{head(client.app.state.runtime)}"  # type: ignore[attr-defined]
    add_members(client, org_id, {"user_id": fresh, "role": "internal_user"})
    listed = client.get("/organization/list", headers=ADMIN)
    assert listed.status_code == 200 and fresh in listed.text


# The poison values: accepted, they stopped every later write on PostgreSQL.

def test_an_org_admins_3000_character_member_is_422_and_writes_nothing(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    key = org_admin_key(client, org_id)
    start = head(runtime)
    for member, field in (({"user_id": LONG, "role": "internal_user"}, "user_id"),
                          ({"user_email": LONG + "@example.com", "role": "internal_user"}, "user_email")):
        response = client.post("/organization/member_add", headers=bearer(key),
                               json={"organization_id": org_id, "member": member})
        [error] = validation(response)
        assert (error["type"], error["loc"]) == ("string_too_long", ["body", field]), error
        assert error["ctx"] == {"max_length": 256}
    assert head(runtime) == start
    assert_ordinary_write_works(client, org_id)


def test_a_proxy_admins_3000_character_user_is_422_and_writes_nothing(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    start = head(runtime)
    for body, field in (({"user_id": LONG}, "user_id"), ({"user_email": LONG}, "user_email")):
        [error] = validation(client.post("/user/new", json=body, headers=ADMIN))
        assert (error["type"], error["loc"]) == ("string_too_long", ["body", field])
    assert head(runtime) == start
    assert_ordinary_write_works(client, org_id)


def test_ids_at_the_limit_are_accepted_even_in_four_byte_characters(client: TestClient) -> None:
    # 256 characters of 4 bytes each: 1 KiB, still within every index the views keep.
    user_id, email = "\U0001d518" * 256, "\U0001d518" * 244 + "@example.com"
    org_id = new_org(client, organization_id="\U0001d518" * 256, organization_alias="\U0001d518" * 256)["organization_id"]
    add_members(client, org_id, {"user_id": user_id, "role": "internal_user"},
                {"user_email": email, "role": "internal_user"})
    members = client.get("/organization/info", params={"organization_id": org_id}, headers=ADMIN).json()["members"]
    assert members[0]["user_id"] == user_id and len(members) == 2
    assert_ordinary_write_works(client, org_id)


OVER = "y" * 257
MANY = [f"m{i}" for i in range(1001)]
# (method, path, body or query, where the error is). "{org}" is an existing organization.
TOO_LONG = [
    ("POST", "/organization/new", {"organization_alias": "a", "organization_id": OVER}, ["body", "organization_id"]),
    ("POST", "/organization/new", {"organization_alias": OVER}, ["body", "organization_alias"]),
    ("POST", "/organization/new", {"organization_alias": "a", "budget_id": OVER}, ["body", "budget_id"]),
    ("POST", "/organization/new", {"organization_alias": "a", "models": [OVER]}, ["body", "models", 0]),
    ("POST", "/organization/new", {"organization_alias": "a", "models": MANY}, ["body", "models"]),
    ("POST", "/organization/new", {"organization_alias": "a", "budget_duration": OVER}, ["body", "budget_duration"]),
    ("POST", "/organization/new", {"organization_alias": "a", "object_permission": {"mcp_servers": [OVER]}},
     ["body", "object_permission", "mcp_servers", 0]),
    ("POST", "/organization/new", {"organization_alias": "a", "model_rpm_limit": {OVER: 1}},
     ["body", "model_rpm_limit", OVER, "[key]"]),
    ("PATCH", "/organization/update", {"organization_id": OVER}, ["body", "organization_id"]),
    ("PATCH", "/organization/update", {"organization_id": "{org}", "organization_alias": OVER},
     ["body", "organization_alias"]),
    ("PATCH", "/organization/update", {"organization_id": "{org}", "models": MANY}, ["body", "models"]),
    ("DELETE", "/organization/delete", {"organization_ids": [OVER]}, ["body", "organization_ids", 0]),
    ("DELETE", "/organization/delete", {"organization_ids": MANY}, ["body", "organization_ids"]),
    ("POST", "/organization/info", {"organizations": [OVER]}, ["body", "organizations", 0]),
    ("POST", "/organization/info", {"organizations": MANY}, ["body", "organizations"]),
    ("POST", "/organization/member_add", {"organization_id": OVER, "member": {"user_id": "u", "role": "org_admin"}},
     ["body", "organization_id"]),
    ("PATCH", "/organization/member_update", {"organization_id": "{org}", "user_id": OVER}, ["body", "user_id"]),
    ("PATCH", "/organization/member_update", {"organization_id": "{org}", "user_email": OVER}, ["body", "user_email"]),
    ("DELETE", "/organization/member_delete", {"organization_id": OVER, "user_id": "u"}, ["body", "organization_id"]),
    ("DELETE", "/organization/member_delete", {"organization_id": "{org}", "user_email": OVER}, ["body", "user_email"]),
    ("POST", "/user/new", {"key_alias": OVER}, ["body", "key_alias"]),
    ("POST", "/user/new", {"models": [OVER]}, ["body", "models", 0]),
    ("POST", "/user/new", {"duration": OVER}, ["body", "duration"]),
    ("POST", "/key/generate", {"user_id": OVER}, ["body", "user_id"]),
    ("POST", "/key/generate", {"organization_id": OVER}, ["body", "organization_id"]),
    ("POST", "/key/generate", {"key_alias": OVER}, ["body", "key_alias"]),
    ("POST", "/key/delete", {"keys": [OVER]}, ["body", "keys", 0]),
    ("POST", "/key/delete", {"keys": MANY}, ["body", "keys"]),
    ("GET", "/organization/info", {"organization_id": OVER}, ["query", "organization_id"]),
    ("GET", "/organization/list", {"org_id": OVER}, ["query", "org_id"]),
    ("GET", "/organization/list", {"org_alias": OVER}, ["query", "org_alias"]),
    ("GET", "/user/info", {"user_id": OVER}, ["query", "user_id"]),
    ("GET", "/audit", {"object_id": OVER}, ["query", "object_id"]),
    ("GET", "/audit", {"changed_by": OVER}, ["query", "changed_by"]),
    ("GET", "/audit", {"table_name": OVER}, ["query", "table_name"]),
    ("GET", "/audit", {"action": OVER}, ["query", "action"]),
]


def with_org(value: Any, org_id: str) -> Any:
    if isinstance(value, dict):
        return {k: with_org(v, org_id) for k, v in value.items()}
    return org_id if value == "{org}" else value


def test_every_string_and_list_a_caller_sends_is_bounded(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    add_members(client, org_id, {"user_id": "u-1", "user_email": "u1@example.com", "role": "internal_user"})
    start = head(runtime)
    for method, path, data, loc in TOO_LONG:
        data = with_org(data, org_id)
        sent = {"params": data} if method == "GET" else {"json": data}
        errors = validation(client.request(method, path, headers=ADMIN, **sent))
        assert loc in [e["loc"] for e in errors], (path, loc, errors)
        assert all(e["type"] in ("string_too_long", "too_long") for e in errors if e["loc"] == loc), errors
    assert head(runtime) == start
    assert_ordinary_write_works(client, org_id)


def test_metadata_is_bounded_by_its_size_as_json(client: TestClient, runtime: Runtime) -> None:
    start = head(runtime)
    big = {"k": "v" * 70_000}
    for method, path, body in (("POST", "/organization/new", {"organization_alias": "a", "metadata": big}),
                               ("POST", "/organization/new", {"organization_alias": "a", "model_max_budget": big}),
                               ("POST", "/user/new", {"metadata": big})):
        [error] = validation(client.request(method, path, json=body, headers=ADMIN))
        assert error["type"] == "value_error" and "65536 bytes" in error["msg"], error
    assert head(runtime) == start
    assert new_org(client, metadata={"k": "v" * 60_000})["metadata"]["k"] == "v" * 60_000


@pytest.mark.parametrize("char", CONTROL_CHARACTERS)
def test_control_characters_in_ids_and_emails_are_422(client: TestClient, runtime: Runtime, char: str) -> None:
    org_id = new_org(client)["organization_id"]
    start = head(runtime)
    forged = f"eve{char}2026-01-01 OrgDeleted"
    for method, path, body, loc in (
        ("POST", "/organization/new", {"organization_alias": "a", "organization_id": forged}, ["body", "organization_id"]),
        ("POST", "/organization/member_add", {"organization_id": org_id, "member": {"user_id": forged, "role": "org_admin"}},
         ["body", "user_id"]),
        ("POST", "/organization/member_add",
         {"organization_id": org_id, "member": [{"user_email": f"e{char}@x.io", "role": "org_admin"}]},
         ["body", "user_email"]),
        ("POST", "/user/new", {"user_id": forged}, ["body", "user_id"]),
        ("POST", "/user/new", {"user_email": f"e{char}@x.io"}, ["body", "user_email"]),
        ("POST", "/key/generate", {"user_id": forged}, ["body", "user_id"]),
    ):
        errors = validation(client.request(method, path, json=body, headers=ADMIN))
        # (A NUL is found, and located, before the fields are validated.)
        assert [e["loc"][-1] for e in errors] == [loc[-1]], errors
    assert head(runtime) == start
    # Letters beyond ASCII are not control characters.
    add_members(client, org_id, {"user_id": "ünïcødé-名前", "user_email": "zoë@exämple.com", "role": "internal_user"})


@pytest.mark.parametrize("value", ["x" * 257, "eve\tadmin", "eve\x85"])
def test_a_changed_by_header_is_bounded_like_an_id(client: TestClient, runtime: Runtime, value: str) -> None:
    start = head(runtime)
    response = client.post("/organization/new", json={"organization_alias": "a"},
                           headers={**ADMIN, "LiteLLM-Changed-By": value.encode("latin-1")})
    [error] = validation(response)
    assert error["loc"] == ["header", "litellm-changed-by"]
    assert head(runtime) == start


# member_add: at most 1,000 members in one call, and its cost linear in them.

def test_member_add_takes_at_most_1000_members(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    start = head(runtime)
    members = [{"user_id": f"u{i}", "role": "internal_user"} for i in range(1001)]
    [error] = validation(client.post("/organization/member_add", headers=ADMIN,
                                     json={"organization_id": org_id, "member": members}))
    assert (error["type"], error["loc"]) == ("too_long", ["body", "member"])
    assert error["ctx"]["max_length"] == 1000
    assert head(runtime) == start


# Page numbers beyond any offset the stores can count: 422, not an OverflowError.

@pytest.mark.parametrize("page", ["1000000000000000000", "1000000001", "99999999999999999999999999"])
def test_an_audit_page_beyond_the_bound_is_422(client: TestClient, page: str) -> None:
    [error] = validation(client.get("/audit", params={"page": page}, headers=ADMIN))
    assert error["loc"] == ["query", "page"]


def test_the_last_allowed_audit_page_is_empty(client: TestClient) -> None:
    response = client.get("/audit", params={"page": 1_000_000_000, "page_size": 1000}, headers=ADMIN)
    assert response.status_code == 200 and response.json()["audit_logs"] == []


# Unknown routes and wrong methods: FastAPI's JSON.

def test_unknown_routes_and_wrong_methods_answer_json(client: TestClient) -> None:
    missing = client.get("/no/such/route", headers=ADMIN)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert missing.headers["content-type"] == "application/json"
    for method, path, allowed in (("DELETE", "/organization/new", {"POST"}),
                                  ("GET", "/organization/member_add", {"POST"}),
                                  # Starlette's router, as under FastAPI, names the first route's methods.
                                  ("PUT", "/organization/info", {"GET", "HEAD"})):
        wrong = client.request(method, path, headers=ADMIN)
        assert (wrong.status_code, wrong.json()) == (405, {"detail": "Method Not Allowed"}), path
        assert wrong.headers["content-type"] == "application/json"
        assert set(wrong.headers["allow"].replace(" ", "").split(",")) == allowed


# Content types: FastAPI reads a body as JSON only when its type is absent, application/json or
# application/*+json; any other body reaches validation as raw text.

JSON_BODY = b'{"organization_alias": "typed"}'


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/geo+json-seq", "application/not-really-json",
                                          "multipart/form-data; boundary=x"])
def test_a_body_that_is_not_declared_json_is_422(client: TestClient, runtime: Runtime, content_type: str) -> None:
    start = head(runtime)
    response = client.post("/organization/new", content=JSON_BODY, headers={**ADMIN, "content-type": content_type})
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "model_attributes_type", "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from",
        "input": JSON_BODY.decode(),
    }]}
    # The key is checked first, as FastAPI solves LiteLLM's auth dependency before the body.
    unauthenticated = client.post("/organization/new", content=JSON_BODY, headers={"content-type": content_type})
    assert unauthenticated.status_code == 401
    assert head(runtime) == start


@pytest.mark.parametrize("content_type", [None, "application/json", "application/json; charset=utf-8",
                                          "APPLICATION/JSON", "application/merge-patch+json"])
def test_json_and_absent_content_types_are_read_as_json(client: TestClient, content_type: str | None) -> None:
    headers = ADMIN if content_type is None else {**ADMIN, "content-type": content_type}
    response = client.post("/organization/new", content=JSON_BODY, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["organization_alias"] == "typed"


def test_member_add_of_1000_members_answers_within_a_second(client: TestClient, runtime: Runtime) -> None:
    timings = []
    # Twice, each into an organization of its own: the faster call is what the service costs,
    # the other may have shared the machine's two cores with something else.
    for attempt in range(2):
        org_id = new_org(client)["organization_id"]
        add_members(client, org_id, {"user_id": f"warm-up-{attempt}", "role": "internal_user"})
        members = [{"user_id": f"u{attempt}-{i}", "role": "internal_user"} if i % 2 else
                   {"user_email": f"u{attempt}-{i}@example.com", "role": "org_admin"} for i in range(1000)]
        started = time.perf_counter()
        response = client.post("/organization/member_add", headers=ADMIN,
                               json={"organization_id": org_id, "member": members})
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert len(answer["updated_users"]) == len(answer["updated_organization_memberships"]) == 1000
        assert [u["user_email"] for u in answer["updated_users"][:2]] == [f"u{attempt}-0@example.com", None]
    assert min(timings) < 1.0, f"1,000 members took {timings[0]:.2f} s and {timings[1]:.2f} s"


# JSON nested deeper than 64 levels is refused before it is decoded: no RecursionError.

def nested(depth: int, shape: str) -> bytes:
    if shape == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_json_nested_too_deep_is_422(client: TestClient, runtime: Runtime, caplog: pytest.LogCaptureFixture,
                                     shape: str, depth: int) -> None:
    start = head(runtime)
    for body in (nested(depth, shape),
                 b'{"organization_alias": "a", "metadata": {"k": ' + nested(depth - 2, shape) + b"}}"):
        response = client.post("/organization/new", content=body, headers={**ADMIN, "content-type": "application/json"})
        [error] = validation(response)
        assert error["type"] == "json_invalid" and "nested" in error["ctx"]["error"], error
    # Refused before authentication, as any JSON that cannot be decoded is.
    anonymous = client.post("/organization/new", content=nested(depth, shape))
    assert anonymous.status_code == 422
    assert head(runtime) == start
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_json_nested_64_deep_is_read_and_brackets_in_strings_do_not_count(client: TestClient) -> None:
    metadata = b'{"a":' * 62 + b"1" + b"}" * 62  # the body's object, metadata, then 62 more: 64
    body = b'{"organization_alias": "a", "metadata": ' + metadata + b', "models": ["[{\\"[[[' + b"[" * 200 + b'"]}'
    response = client.post("/organization/new", content=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json()["models"] == ['[{"[[[' + "[" * 200]


def test_the_bounds_are_in_the_openapi_document(sqlite_client: TestClient) -> None:
    document = sqlite_client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    user_id = schemas["OrgMember"]["properties"]["user_id"]["anyOf"][0]
    assert user_id["maxLength"] == 256 and user_id["pattern"] == r"^[^\x00-\x1f\x7f-\x9f]*$"
    assert schemas["NewOrganizationRequest"]["properties"]["organization_alias"]["maxLength"] == 256
    assert schemas["DeleteOrganizationRequest"]["properties"]["organization_ids"]["maxItems"] == 1000
    member = schemas["OrganizationMemberAddRequest"]["properties"]["member"]["anyOf"][0]
    assert member["maxItems"] == 1000
    assert "65536 bytes" in schemas["NewOrganizationRequest"]["properties"]["metadata"]["anyOf"][0]["description"]
    [page] = [p for p in document["paths"]["/audit"]["get"]["parameters"] if p["name"] == "page"]
    assert page["schema"]["maximum"] == 1_000_000_000
