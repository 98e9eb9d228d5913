"""The nine /organization/* endpoints: success answers with LiteLLM's shapes, key order and nulls."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.conftest import ADMIN, MASTER_KEY

from .api import (
    BUDGET_KEYS,
    DELETED_MEMBERSHIP_KEYS,
    ISO_UTC,
    MEMBERSHIP_KEYS,
    NEW_ORG_KEYS,
    ORG_KEYS,
    USER_KEYS,
    add_members,
    info,
    new_org,
)


def test_new_answers_the_organization_with_every_field(client: TestClient) -> None:
    created = new_org(client, organization_alias="marketing_department", models=["gpt-4"], max_budget=20)
    assert list(created) == NEW_ORG_KEYS
    assert created["organization_alias"] == "marketing_department"
    assert (created["spend"], created["metadata"], created["models"]) == (0.0, {}, ["gpt-4"])
    assert (created["created_by"], created["updated_by"]) == ("default_user_id", "default_user_id")
    assert created["users"] is None and created["object_permission"] is None
    assert created["object_permission_id"] is None
    budget = created["litellm_budget_table"]
    assert list(budget) == BUDGET_KEYS
    assert budget == {"budget_id": created["budget_id"], "soft_budget": None, "max_budget": 20.0,
                      "max_parallel_requests": None, "tpm_limit": None, "rpm_limit": None,
                      "model_max_budget": None, "budget_duration": None}
    assert re.match(ISO_UTC, created["created_at"]) and created["created_at"] == created["updated_at"]


def test_new_with_only_an_alias_needs_no_models_and_still_has_a_budget(client: TestClient) -> None:
    created = new_org(client, organization_alias="a")
    assert created["models"] == [] and created["litellm_budget_table"]["budget_id"] == created["budget_id"]


def test_aliases_need_not_be_unique(client: TestClient) -> None:
    first, second = new_org(client, organization_alias="same"), new_org(client, organization_alias="same")
    assert first["organization_id"] != second["organization_id"]


def test_new_with_every_optional_field(client: TestClient) -> None:
    created = new_org(
        client, organization_id="org-custom", organization_alias="x", models=["a", "b"], metadata={"k": "v"},
        soft_budget=1.5, max_parallel_requests=3, tpm_limit=10, rpm_limit=20, model_max_budget={"gpt-4": {"max_budget": 1}},
        budget_duration="30d", model_rpm_limit={"gpt-4": 5}, model_tpm_limit={"gpt-4": 50},
        object_permission={"vector_stores": ["v1"]}, unknown_field="ignored",
    )
    assert created["organization_id"] == "org-custom"
    assert created["metadata"] == {"k": "v", "model_rpm_limit": {"gpt-4": 5}, "model_tpm_limit": {"gpt-4": 50}}
    assert created["litellm_budget_table"] | {"budget_id": None} == {
        "budget_id": None, "soft_budget": 1.5, "max_budget": None, "max_parallel_requests": 3, "tpm_limit": 10,
        "rpm_limit": 20, "model_max_budget": {"gpt-4": {"max_budget": 1}}, "budget_duration": "30d"}
    # /new never shows the permission object; info does, with its id.
    assert created["object_permission"] is None
    shown = info(client, "org-custom")
    assert shown["object_permission"]["vector_stores"] == ["v1"]
    assert shown["object_permission_id"] == shown["object_permission"]["object_permission_id"]


def test_new_with_the_budget_id_of_another_organization_shares_that_budget(client: TestClient) -> None:
    first = new_org(client, max_budget=5)
    second = new_org(client, budget_id=first["budget_id"], max_budget=99)
    assert second["budget_id"] == first["budget_id"]
    assert second["litellm_budget_table"]["max_budget"] == 5.0


def test_info_answers_the_organization_with_members_and_no_teams(client: TestClient) -> None:
    org_id = new_org(client, max_budget=10)["organization_id"]
    add_members(client, org_id, {"user_id": "u-1", "role": "org_admin"})
    shown = info(client, org_id)
    assert list(shown) == ORG_KEYS
    assert shown["teams"] == [] and shown["users"] is None
    [member] = shown["members"]
    assert list(member) == MEMBERSHIP_KEYS
    assert (member["user_id"], member["organization_id"], member["user_role"]) == ("u-1", org_id, "org_admin")
    assert (member["spend"], member["budget_id"], member["user"], member["litellm_budget_table"]) == (0.0, None, None, None)


def test_both_key_headers_are_accepted(client: TestClient) -> None:
    org_id = new_org(client)["organization_id"]
    for headers in ({"x-litellm-api-key": MASTER_KEY}, {"x-litellm-api-key": f"Bearer {MASTER_KEY}"},
                    {"Authorization": f"bearer {MASTER_KEY}"}):
        response = client.get("/organization/info", params={"organization_id": org_id}, headers=headers)
        assert response.status_code == 200, headers


def test_list_answers_every_organization_in_creation_order(client: TestClient) -> None:
    ids = [new_org(client, organization_alias=a)["organization_id"] for a in ("Marketing EU", "marketing-us", "Sales")]
    add_members(client, ids[1], {"user_id": "u-1", "role": "internal_user"})
    listed = client.get("/organization/list", headers=ADMIN)
    assert listed.status_code == 200
    orgs = listed.json()
    assert [o["organization_id"] for o in orgs] == ids
    assert all(list(o) == ORG_KEYS and o["litellm_budget_table"] is not None and o["teams"] == [] for o in orgs)
    assert [len(o["members"]) for o in orgs] == [0, 1, 0]
    assert all(o["object_permission"] is None for o in orgs)


def test_list_filters_by_org_id_exactly_and_org_alias_as_a_case_insensitive_substring(client: TestClient) -> None:
    ids = [new_org(client, organization_alias=a)["organization_id"] for a in ("Marketing EU", "marketing-us", "Sales", "ÄRGER")]

    def listed(**params: str) -> list[str]:
        response = client.get("/organization/list", params=params, headers=ADMIN)
        assert response.status_code == 200
        return [o["organization_id"] for o in response.json()]

    assert listed(org_alias="MARKETING") == ids[:2]
    assert listed(org_alias="ing-U") == [ids[1]]
    assert listed(org_alias="är") == [ids[3]]
    assert listed(org_alias="%") == [] and listed(org_alias="_") == []
    assert listed(org_id=ids[2]) == [ids[2]]
    assert listed(org_id=ids[2][:8]) == []
    assert listed(org_id=ids[0], org_alias="eu") == [ids[0]]
    assert listed(org_id=ids[0], org_alias="sales") == []
    assert listed(org_alias="") == ids
    # A renamed organization is found by its new alias only.
    renamed = client.patch("/organization/update", json={"organization_id": ids[2], "organization_alias": "Ölwerk"},
                           headers=ADMIN)
    assert renamed.status_code == 200
    assert listed(org_alias="ÖL") == [ids[2]] and listed(org_alias="sales") == []


def test_a_filtered_list_carries_each_organizations_own_members(client: TestClient) -> None:
    first, second = (new_org(client, organization_alias=a)["organization_id"] for a in ("team-a", "team-b"))
    for org_id, user in ((first, "ann"), (second, "bob"), (second, "cy")):
        added = client.post("/organization/member_add", headers=ADMIN,
                            json={"organization_id": org_id, "member": {"user_id": user, "role": "internal_user"}})
        assert added.status_code == 200
    listed = client.get("/organization/list", params={"org_alias": "TEAM"}, headers=ADMIN).json()
    assert [[m["user_id"] for m in o["members"]] for o in listed] == [["ann"], ["bob", "cy"]]


def test_update_changes_fields_and_answers_with_members(client: TestClient) -> None:
    created = new_org(client, max_budget=20, metadata={"a": {"x": 1}, "keep": True})
    org_id = created["organization_id"]
    add_members(client, org_id, {"user_id": "u-1", "role": "internal_user"})
    response = client.patch("/organization/update", headers=ADMIN, json={
        "organization_id": org_id, "organization_alias": "renamed", "models": ["m"], "spend": 3.5,
        "metadata": {"a": {"y": 2}, "n": "8192", "gone": None}, "max_budget": 50, "tpm_limit": 7,
        "model_rpm_limit": {"m": 1},
    })
    assert response.status_code == 200, response.text
    updated = response.json()
    assert list(updated) == ORG_KEYS
    assert (updated["organization_alias"], updated["models"], updated["spend"]) == ("renamed", ["m"], 3.5)
    assert updated["metadata"] == {"a": {"x": 1, "y": 2}, "keep": True, "n": 8192, "model_rpm_limit": {"m": 1}}
    assert (updated["litellm_budget_table"]["max_budget"], updated["litellm_budget_table"]["tpm_limit"]) == (50.0, 7)
    assert updated["budget_id"] == created["budget_id"]
    assert [m["user_id"] for m in updated["members"]] == ["u-1"] and updated["teams"] == []
    assert updated["object_permission"] is None
    assert info(client, org_id) | {"object_permission": None} == updated


def test_update_takes_the_ui_nested_budget_table(client: TestClient) -> None:
    org_id = new_org(client, max_budget=20, soft_budget=5)["organization_id"]
    response = client.patch("/organization/update", headers=ADMIN, json={
        "organization_id": org_id, "litellm_budget_table": {"max_budget": 70, "soft_budget": None, "budget_id": "x"}})
    assert response.status_code == 200
    assert (response.json()["litellm_budget_table"]["max_budget"], response.json()["litellm_budget_table"]["soft_budget"]) == (70.0, 5.0)


def test_update_with_a_budget_id_is_not_an_error(client: TestClient) -> None:
    created = new_org(client, max_budget=20)
    other = new_org(client)
    response = client.patch("/organization/update", headers=ADMIN, json={
        "organization_id": created["organization_id"], "budget_id": other["budget_id"], "max_budget": 30})
    # The budget_id is ignored: the organization keeps its own budget, whose limit changed.
    assert response.status_code == 200, response.text
    assert response.json()["budget_id"] == created["budget_id"]
    assert response.json()["litellm_budget_table"]["max_budget"] == 30.0
    assert info(client, other["organization_id"])["litellm_budget_table"]["max_budget"] is None


def test_update_records_the_changed_by_header_of_an_admin(client: TestClient) -> None:
    org_id = new_org(client)["organization_id"]
    response = client.patch("/organization/update", json={"organization_id": org_id, "organization_alias": "b"},
                            headers={**ADMIN, "LiteLLM-Changed-By": "someone-else"})
    assert response.status_code == 200
    assert (response.json()["updated_by"], response.json()["created_by"]) == ("someone-else", "default_user_id")


def test_delete_answers_the_deleted_organizations_and_removes_them(client: TestClient) -> None:
    first = new_org(client, organization_alias="one")["organization_id"]
    second = new_org(client, organization_alias="two")["organization_id"]
    keep = new_org(client, organization_alias="keep")["organization_id"]
    add_members(client, first, {"user_id": "u-1", "role": "org_admin"}, {"user_id": "u-2", "role": "internal_user"})
    add_members(client, keep, {"user_id": "u-1", "role": "internal_user"})
    response = client.request("DELETE", "/organization/delete", json={"organization_ids": [second, first]},
                              headers=ADMIN)
    assert response.status_code == 200, response.text
    deleted = response.json()
    assert [o["organization_id"] for o in deleted] == [second, first]
    for o in deleted:
        assert list(o) == ORG_KEYS
        assert o["members"] == [] and o["teams"] == [] and o["litellm_budget_table"] is not None
    listed = client.get("/organization/list", headers=ADMIN).json()
    assert [o["organization_id"] for o in listed] == [keep]
    assert [m["user_id"] for m in listed[0]["members"]] == ["u-1"]
    gone = client.get("/organization/info", params={"organization_id": first}, headers=ADMIN)
    assert gone.status_code == 404


def test_delete_of_no_ids_answers_an_empty_list(client: TestClient) -> None:
    response = client.request("DELETE", "/organization/delete", json={"organization_ids": []}, headers=ADMIN)
    assert (response.status_code, response.json()) == (200, [])


def test_deprecated_post_info_answers_database_rows_and_skips_unknown_ids(client: TestClient) -> None:
    created = new_org(client, max_budget=3)
    response = client.post("/organization/info", json={"organizations": ["nope", created["organization_id"]]},
                           headers=ADMIN)
    assert response.status_code == 200
    [row] = response.json()
    assert list(row) == [
        "organization_id", "organization_alias", "budget_id", "metadata", "models", "spend", "model_spend",
        "object_permission_id", "created_at", "created_by", "updated_at", "updated_by", "litellm_budget_table",
        "teams", "users", "keys", "members", "object_permission"]
    assert row["organization_id"] == created["organization_id"] and row["model_spend"] == {}
    assert all(row[k] is None for k in ("teams", "users", "keys", "members", "object_permission"))
    budget = row["litellm_budget_table"]
    assert list(budget) == [*BUDGET_KEYS, "budget_reset_at", "created_at", "created_by", "updated_at", "updated_by",
                            "organization", "keys", "end_users", "tags", "team_membership", "organization_membership"]
    assert (budget["max_budget"], budget["created_by"]) == (3.0, "default_user_id")


def test_member_add_answers_users_and_memberships_in_order(client: TestClient) -> None:
    org_id = new_org(client)["organization_id"]
    added = add_members(client, org_id, {"user_id": "u-1", "role": "org_admin"},
                        {"user_email": "b@example.com", "role": "internal_user_viewer"})
    assert list(added) == ["organization_id", "updated_users", "updated_organization_memberships"]
    assert added["organization_id"] == org_id
    users, memberships = added["updated_users"], added["updated_organization_memberships"]
    assert [list(u) for u in users] == [USER_KEYS, USER_KEYS]
    assert users[0]["user_id"] == "u-1" and users[1]["user_email"] == "b@example.com"
    # New users are internal_user globally even when they are org_admin of the organization.
    assert [u["user_role"] for u in users] == ["internal_user", "internal_user"]
    assert (users[0]["organization_memberships"], users[0]["teams"], users[0]["models"]) == (None, [], [])
    assert [list(m) for m in memberships] == [MEMBERSHIP_KEYS, MEMBERSHIP_KEYS]
    assert [(m["user_id"], m["user_role"]) for m in memberships] == [
        ("u-1", "org_admin"), (users[1]["user_id"], "internal_user_viewer")]


def test_member_add_by_email_attaches_the_existing_user(client: TestClient) -> None:
    first_org = new_org(client)["organization_id"]
    second_org = new_org(client)["organization_id"]
    created = add_members(client, first_org, {"user_email": "c@example.com", "role": "internal_user"})
    again = add_members(client, second_org, {"user_email": "c@example.com", "role": "org_admin"})
    assert again["updated_users"][0]["user_id"] == created["updated_users"][0]["user_id"]


def test_member_add_accepts_the_max_budget_it_ignores(client: TestClient) -> None:
    org_id = new_org(client)["organization_id"]
    response = client.post("/organization/member_add", headers=ADMIN, json={
        "organization_id": org_id, "member": {"user_id": "u", "role": "internal_user"}, "max_budget_in_organization": 5})
    assert response.status_code == 200
    assert response.json()["updated_organization_memberships"][0]["budget_id"] is None


def test_member_update_changes_the_role_and_the_budget(client: TestClient) -> None:
    org_id = new_org(client)["organization_id"]
    add_members(client, org_id, {"user_id": "u-1", "role": "internal_user", "user_email": "u1@example.com"})
    response = client.patch("/organization/member_update", headers=ADMIN, json={
        "organization_id": org_id, "user_id": "u-1", "role": "org_admin", "max_budget_in_organization": 50})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert list(updated) == MEMBERSHIP_KEYS
    assert (updated["user_role"], updated["user"]) == ("org_admin", None)
    budget = updated["litellm_budget_table"]
    assert list(budget) == BUDGET_KEYS and budget["max_budget"] == 50.0 and updated["budget_id"] == budget["budget_id"]
    # By email, the same budget is updated.
    again = client.patch("/organization/member_update", headers=ADMIN, json={
        "organization_id": org_id, "user_email": "u1@example.com", "max_budget_in_organization": 75})
    assert again.status_code == 200
    assert again.json()["budget_id"] == updated["budget_id"]
    assert again.json()["litellm_budget_table"]["max_budget"] == 75.0
    # Neither role nor budget: nothing changes, still 200.
    same = client.patch("/organization/member_update", headers=ADMIN, json={"organization_id": org_id, "user_id": "u-1"})
    assert same.status_code == 200 and same.json() == again.json()
    assert info(client, org_id)["members"][0]["user_role"] == "org_admin"


def test_member_delete_answers_the_deleted_membership(client: TestClient) -> None:
    org_id = new_org(client)["organization_id"]
    add_members(client, org_id, {"user_id": "u-1", "role": "org_admin"}, {"user_email": "d@example.com", "role": "internal_user"})
    response = client.request("DELETE", "/organization/member_delete", headers=ADMIN,
                              json={"organization_id": org_id, "user_id": "u-1"})
    assert response.status_code == 200, response.text
    deleted = response.json()
    assert list(deleted) == DELETED_MEMBERSHIP_KEYS
    assert (deleted["user_id"], deleted["user_role"]) == ("u-1", "org_admin")
    assert deleted["user"] is None and deleted["organization"] is None and deleted["litellm_budget_table"] is None
    by_email = client.request("DELETE", "/organization/member_delete", headers=ADMIN,
                              json={"organization_id": org_id, "user_email": "d@example.com"})
    assert by_email.status_code == 200 and by_email.json()["user_role"] == "internal_user"
    assert info(client, org_id)["members"] == []
    # Removed members may be added back.
    add_members(client, org_id, {"user_id": "u-1", "role": "internal_user"})
    assert [m["user_role"] for m in info(client, org_id)["members"]] == ["internal_user"]


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/health/liveliness").status_code == 200
    # LiteLLM answers the other spelling too (Kubernetes probes are often written with it).
    liveness = client.get("/health/liveness")
    assert (liveness.status_code, liveness.json()) == (200, "I'm alive!")
    ready = client.get("/health/readiness")
    assert ready.status_code == 200 and ready.json()["status"] == "healthy"
