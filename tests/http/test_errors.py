"""Every error the reference names for the nine endpoints, with issue 2's §11 fixes.

Each refused request must also leave the event log as it was."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.runtime import Runtime
from orgledger.application.commands import CreateUser
from orgledger.domain.values import Actor
from tests.conftest import ADMIN

from .api import add_members, detail, head, info, new_org, proxy_error, validation

UNIQUE_USER = ("Unique user not found for user_email={}. Potential duplicate OR non-existent user_email in "
               "LiteLLM_UserTable. Use 'user_id' instead.")


# Authentication (reference §1.2).

AUTH_CASES = [
    ({}, "Authentication Error, No api key passed in."),
    ({"Authorization": "sk-test-master-key"},
     "Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` prefix."),
    ({"Authorization": "Bearer not-a-virtual-key"},
     "Authentication Error, LiteLLM Virtual Key expected. Received=not-a-virtual-key, expected to start with 'sk-'."),
    ({"x-litellm-api-key": ""}, "Authentication Error, No api key passed in."),
]
ENDPOINTS = [
    ("POST", "/organization/new", {"organization_alias": "a"}),
    ("PATCH", "/organization/update", {"organization_id": "x"}),
    ("DELETE", "/organization/delete", {"organization_ids": []}),
    ("GET", "/organization/list", None),
    ("GET", "/organization/info?organization_id=x", None),
    ("POST", "/organization/info", {"organizations": ["x"]}),
    ("POST", "/organization/member_add", {"organization_id": "x", "member": {"user_id": "u", "role": "org_admin"}}),
    ("PATCH", "/organization/member_update", {"organization_id": "x", "user_id": "u"}),
    ("DELETE", "/organization/member_delete", {"organization_id": "x", "user_id": "u"}),
]



def register_users_sharing_an_email(runtime: Runtime, actor: Actor, email: str, *user_ids: str) -> None:
    # LiteLLM's user_email is not unique: /user/new registers such users.
    for user_id in user_ids:
        runtime.ledger.create_user(CreateUser(actor=actor, user_id=user_id, user_email=email,
                                              auto_create_key=False))

def test_every_endpoint_needs_a_valid_key(client: TestClient, runtime: Runtime) -> None:
    start = head(runtime)
    for method, path, body in ENDPOINTS:
        for headers, message in AUTH_CASES:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (path, headers)
            error = proxy_error(response)
            assert (error["message"], error["type"]) == (message, "auth_error"), (path, headers)
    assert head(runtime) == start


def test_an_unknown_sk_key_is_named_by_its_hash(client: TestClient) -> None:
    response = client.get("/organization/list", headers={"Authorization": "Bearer sk-unknown-1234"})
    assert response.status_code == 401
    message = proxy_error(response)["message"]
    assert message.startswith("Authentication Error, Invalid proxy server token passed. Received API Key = sk-...1234, Key Hash (Token) =")
    assert message.endswith("Unable to find token in cache or `LiteLLM_VerificationTokenTable`")


def test_malformed_json_is_422_before_auth_and_auth_wins_over_validation(client: TestClient) -> None:
    # FastAPI decodes the body first: a malformed body is 422 even without a key.
    broken = client.post("/organization/new", content=b"{nope", headers={"content-type": "application/json"})
    [error] = validation(broken)
    assert (error["type"], error["loc"][0], error["msg"]) == ("json_invalid", "body", "JSON decode error")
    # A well-formed but invalid body without a key is 401: auth runs before validation.
    invalid = client.post("/organization/new", json={"models": "x"})
    assert invalid.status_code == 401


# /organization/new (§5.1 and §11).

def test_new_without_an_alias_is_422(client: TestClient, runtime: Runtime) -> None:
    [error] = validation(client.post("/organization/new", json={"models": []}, headers=ADMIN))
    assert (error["type"], error["loc"], error["msg"]) == ("missing", ["body", "organization_alias"], "Field required")
    assert head(runtime) == 0


def test_new_with_a_non_numeric_budget_is_422(client: TestClient, runtime: Runtime) -> None:
    [error] = validation(client.post("/organization/new", json={"organization_alias": "a", "max_budget": "lots"},
                                     headers=ADMIN))
    assert (error["type"], error["loc"]) == ("float_parsing", ["body", "max_budget"])
    assert head(runtime) == 0


@pytest.mark.parametrize("field", ["max_budget", "soft_budget"])
def test_new_with_a_negative_budget_is_400(client: TestClient, runtime: Runtime, field: str) -> None:
    response = client.post("/organization/new", json={"organization_alias": "a", field: -5}, headers=ADMIN)
    assert response.status_code == 400
    assert detail(response) == f"{field} cannot be negative. Received: -5.0"
    assert head(runtime) == 0


def test_new_with_an_existing_organization_id_is_400_and_changes_nothing(client: TestClient, runtime: Runtime) -> None:
    original = new_org(client, organization_id="taken", organization_alias="original", max_budget=1)
    start = head(runtime)
    response = client.post("/organization/new", headers=ADMIN,
                           json={"organization_id": "taken", "organization_alias": "impostor", "max_budget": 99})
    assert response.status_code == 400
    assert detail(response) == "Organization with organization_id=taken already exists"
    assert head(runtime) == start
    shown = info(client, "taken")
    assert (shown["organization_alias"], shown["litellm_budget_table"]["max_budget"]) == ("original", 1.0)
    assert shown["created_at"] == original["created_at"]


def test_new_with_an_unknown_budget_id_is_400(client: TestClient, runtime: Runtime) -> None:
    response = client.post("/organization/new", json={"organization_alias": "a", "budget_id": "nope"}, headers=ADMIN)
    assert response.status_code == 400 and detail(response) == "Budget not found for budget_id=nope"
    assert head(runtime) == 0


# /organization/update (§5.2 and §11).

def test_update_of_a_missing_organization_is_404(client: TestClient, runtime: Runtime) -> None:
    response = client.patch("/organization/update", json={"organization_id": "nope", "max_budget": 1}, headers=ADMIN)
    assert response.status_code == 404
    assert detail(response) == "Organization not found for organization_id=nope"
    assert head(runtime) == 0


def test_update_without_an_organization_id_is_422(client: TestClient) -> None:
    [error] = validation(client.patch("/organization/update", json={"organization_alias": "x"}, headers=ADMIN))
    assert error["loc"] == ["body", "organization_id"]


@pytest.mark.parametrize("field", ["max_budget", "soft_budget"])
def test_update_with_a_negative_budget_is_400_and_changes_nothing(client: TestClient, runtime: Runtime, field: str) -> None:
    org_id = new_org(client, organization_alias="before")["organization_id"]
    start = head(runtime)
    response = client.patch("/organization/update", headers=ADMIN,
                            json={"organization_id": org_id, "organization_alias": "after", field: -1})
    assert response.status_code == 400 and detail(response) == f"{field} cannot be negative. Received: -1.0"
    assert head(runtime) == start
    assert info(client, org_id)["organization_alias"] == "before"


@pytest.mark.parametrize("budget_id", ["some-id", "", None])
def test_update_with_any_budget_id_is_never_a_500(client: TestClient, budget_id: str | None) -> None:
    org_id = new_org(client)["organization_id"]
    response = client.patch("/organization/update", json={"organization_id": org_id, "budget_id": budget_id},
                            headers=ADMIN)
    assert response.status_code == 200


def test_update_with_wrong_types_is_422_not_500(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    start = head(runtime)
    for body in ({"models": "gpt-4"}, {"metadata": []}, {"spend": "x"}, {"budget_id": 5}, {"tpm_limit": 1.5}):
        validation(client.patch("/organization/update", json={"organization_id": org_id, **body}, headers=ADMIN))
    assert head(runtime) == start


# /organization/delete (§5.3).

def test_delete_of_an_unknown_organization_is_404_and_deletes_none(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    add_members(client, org_id, {"user_id": "u", "role": "org_admin"})
    start = head(runtime)
    response = client.request("DELETE", "/organization/delete", json={"organization_ids": [org_id, "nope"]},
                              headers=ADMIN)
    assert response.status_code == 404 and detail(response) == "Organization=nope not found"
    assert head(runtime) == start
    assert len(info(client, org_id)["members"]) == 1


def test_delete_without_ids_is_422(client: TestClient) -> None:
    [error] = validation(client.request("DELETE", "/organization/delete", json={}, headers=ADMIN))
    assert (error["type"], error["loc"]) == ("missing", ["body", "organization_ids"])


# /organization/info GET and POST (§5.5, §5.6).

def test_info_without_an_id_is_422_and_of_an_unknown_id_404(client: TestClient) -> None:
    [error] = validation(client.get("/organization/info", headers=ADMIN))
    assert (error["type"], error["loc"], error["msg"]) == ("missing", ["query", "organization_id"], "Field required")
    missing = client.get("/organization/info", params={"organization_id": "nope"}, headers=ADMIN)
    assert missing.status_code == 404 and detail(missing) == "Organization not found"


def test_deprecated_info_needs_ids(client: TestClient) -> None:
    empty = client.post("/organization/info", json={"organizations": []}, headers=ADMIN)
    assert empty.status_code == 400 and detail(empty) == "Specify list of organization id's to query. Passed in=[]"
    [error] = validation(client.post("/organization/info", json={}, headers=ADMIN))
    assert error["loc"] == ["body", "organizations"]


# /organization/member_add (§5.7 and §11).

def test_member_add_to_an_unknown_organization_is_a_404_proxy_error(client: TestClient, runtime: Runtime) -> None:
    response = client.post("/organization/member_add", headers=ADMIN,
                           json={"organization_id": "nope", "member": {"user_id": "u", "role": "org_admin"}})
    assert response.status_code == 404
    error = proxy_error(response)
    assert error["message"] == "{'error': 'Organization not found for organization_id=nope'}"
    assert head(runtime) == 0


def test_member_add_of_a_member_is_400_and_writes_nothing(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    add_members(client, org_id, {"user_id": "u-1", "role": "internal_user"})
    start = head(runtime)
    # The second member of the list is already one: the first is not added either.
    response = client.post("/organization/member_add", headers=ADMIN, json={"organization_id": org_id, "member": [
        {"user_id": "fresh", "role": "org_admin"}, {"user_id": "u-1", "role": "org_admin"}]})
    assert response.status_code == 400
    assert "already a member" in proxy_error(response)["message"]
    assert head(runtime) == start
    assert [m["user_id"] for m in info(client, org_id)["members"]] == ["u-1"]


def test_member_add_by_an_email_several_users_share_is_400(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    # Two users with one email (LiteLLM's user_email is not unique).
    actor = Actor(user_id="default_user_id")
    register_users_sharing_an_email(runtime, actor, "dup@example.com", "d1", "d2")
    start = head(runtime)
    response = client.post("/organization/member_add", headers=ADMIN, json={
        "organization_id": org_id, "member": {"user_email": "dup@example.com", "role": "internal_user"}})
    assert response.status_code == 400
    assert "Multiple users with this email found in db. Please use 'user_id' instead." in proxy_error(response)["message"]
    assert head(runtime) == start


@pytest.mark.parametrize(("member", "error_type", "loc", "msg"), [
    ({"role": "org_admin"}, "value_error", ["body"], "Value error, Either user id or user email must be provided"),
    ({"user_id": "u", "role": "owner"}, "literal_error", ["body", "role"], None),
    ({"user_id": "u"}, "missing", ["body", "role"], "Field required"),
    ("u", "value_error", ["body"], "Value error, input needs to be a dictionary"),
    ([{"user_id": "ok", "role": "org_admin"}, {"role": "org_admin"}], "value_error", ["body"], None),
])
def test_member_add_validation(client: TestClient, runtime: Runtime, member: object, error_type: str,
                               loc: list, msg: str | None) -> None:
    org_id = new_org(client)["organization_id"]
    start = head(runtime)
    errors = validation(client.post("/organization/member_add", headers=ADMIN,
                                    json={"organization_id": org_id, "member": member}))
    assert (errors[0]["type"], errors[0]["loc"]) == (error_type, loc)
    if msg:
        assert errors[0]["msg"] == msg
    assert head(runtime) == start


def test_member_add_without_member_or_organization_is_422(client: TestClient) -> None:
    errors = validation(client.post("/organization/member_add", json={}, headers=ADMIN))
    assert {tuple(e["loc"]) for e in errors} == {("body", "organization_id"), ("body", "member")}
    assert all(e["msg"] == "Field required" for e in errors)


# /organization/member_update (§5.8 and §11).

def test_member_update_errors(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    add_members(client, org_id, {"user_id": "u-1", "role": "internal_user"})
    start = head(runtime)

    def patch(**body: object) -> object:
        return client.patch("/organization/member_update", json={"organization_id": org_id, **body}, headers=ADMIN)

    unknown_org = client.patch("/organization/member_update", headers=ADMIN,
                               json={"organization_id": "nope", "user_id": "u-1", "role": "org_admin"})
    assert unknown_org.status_code == 400 and detail(unknown_org) == "Organization not found for organization_id=nope"
    unknown_email = patch(user_email="who@example.com", role="org_admin")
    assert unknown_email.status_code == 400 and detail(unknown_email) == UNIQUE_USER.format("who@example.com")
    not_member = patch(user_id="u-9", role="org_admin")
    assert not_member.status_code == 404 and detail(not_member) == "Member not found in organization for user_id=u-9"
    negative = patch(user_id="u-1", max_budget_in_organization=-2)
    assert negative.status_code == 400 and detail(negative) == "max_budget cannot be negative. Received: -2.0"
    [outside] = validation(patch(user_id="u-1", role="proxy_admin"))
    assert (outside["type"], outside["loc"]) == ("value_error", ["body", "role"])
    assert outside["msg"] == "Value error, Invalid role. Must be one of: ['org_admin', 'internal_user', 'internal_user_viewer']"
    [unknown_role] = validation(patch(user_id="u-1", role="owner"))
    assert (unknown_role["type"], unknown_role["loc"]) == ("enum", ["body", "role"])
    [nobody] = validation(patch(role="org_admin"))
    assert nobody["msg"] == "Value error, Either user id or user email must be provided"
    assert head(runtime) == start
    assert info(client, org_id)["members"][0]["user_role"] == "internal_user"


def test_member_update_and_delete_by_a_shared_email_are_400(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    actor = Actor(user_id="default_user_id")
    register_users_sharing_an_email(runtime, actor, "dup@example.com", "d1", "d2")
    add_members(client, org_id, {"user_id": "d1", "role": "internal_user"})
    start = head(runtime)
    for method in ("PATCH", "DELETE"):
        path = "/organization/member_update" if method == "PATCH" else "/organization/member_delete"
        response = client.request(method, path, headers=ADMIN,
                                  json={"organization_id": org_id, "user_email": "dup@example.com"})
        assert response.status_code == 400 and detail(response) == UNIQUE_USER.format("dup@example.com")
    assert head(runtime) == start


# /organization/member_delete (§5.9 and §11).

def test_member_delete_errors(client: TestClient, runtime: Runtime) -> None:
    org_id = new_org(client)["organization_id"]
    add_members(client, org_id, {"user_id": "u-1", "role": "internal_user"})
    start = head(runtime)

    def delete(**body: object) -> object:
        return client.request("DELETE", "/organization/member_delete", json=body, headers=ADMIN)

    unknown_email = delete(organization_id=org_id, user_email="who@example.com")
    assert unknown_email.status_code == 400 and detail(unknown_email) == UNIQUE_USER.format("who@example.com")
    unknown_org = delete(organization_id="nope", user_id="u-1")
    assert unknown_org.status_code == 400 and detail(unknown_org) == "Organization not found for organization_id=nope"
    not_member = delete(organization_id=org_id, user_id="u-9")
    assert not_member.status_code == 404 and detail(not_member) == "Member not found in organization for user_id=u-9"
    [nobody] = validation(delete(organization_id=org_id))
    assert nobody["msg"] == "Value error, Either user id or user email must be provided"
    [no_org] = validation(delete(user_id="u-1"))
    assert no_org["loc"] == ["body", "organization_id"]
    assert head(runtime) == start
    assert len(info(client, org_id)["members"]) == 1
