from __future__ import annotations

import hashlib
from typing import Any

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.http.auth import Authenticator, Caller, key_hash
from orgledger.adapters.runtime import Runtime
from orgledger.application.commands import CreateOrg
from orgledger.domain.values import Actor
from tests.conftest import ADMIN, MASTER_KEY

MASTER_HASH = hashlib.sha256(MASTER_KEY.encode()).hexdigest()


def audit(client: TestClient, headers: dict[str, str] = ADMIN, **params: Any) -> Any:
    response = client.get("/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def scenario(client: TestClient) -> None:
    """Two organizations; one gets a member whose role and budget change, then it is deleted."""
    assert client.post("/organization/new", json={"organization_alias": "a", "organization_id": "o1",
                                                  "max_budget": 3}, headers=ADMIN).status_code == 200
    client.post("/organization/member_add", json={"organization_id": "o1",
                "member": {"user_id": "u1", "role": "internal_user"}}, headers=ADMIN)
    client.patch("/organization/update", json={"organization_id": "o1", "organization_alias": "b",
                 "max_budget": 7}, headers=ADMIN)
    client.patch("/organization/member_update", json={"organization_id": "o1", "user_id": "u1",
                 "role": "org_admin", "max_budget_in_organization": 4}, headers=ADMIN)
    client.post("/organization/new", json={"organization_alias": "x", "organization_id": "o2"},
                headers=ADMIN)
    client.request("DELETE", "/organization/delete", json={"organization_ids": ["o2"]}, headers=ADMIN)


def test_one_entry_per_event_in_log_order(client: TestClient, runtime: Runtime) -> None:
    scenario(client)
    # Every stored event, in log order...
    stored = runtime.ledger.recorder.select_notifications(start=1, limit=1000)
    entries = audit(client, page_size=100)["audit_logs"]
    # ...is exactly one entry, in the same order, made by the master key's user.
    assert [e["event_type"] for e in entries] == [n.topic.rsplit(".", 1)[-1] for n in stored]
    assert {e["changed_by"] for e in entries} == {"default_user_id"}
    assert {e["changed_by_api_key"] for e in entries} == {MASTER_HASH}
    assert [(e["table_name"], e["object_id"], e["action"]) for e in entries if e["table_name"] !=
            "LiteLLM_BudgetTable"] == [
        ("LiteLLM_OrganizationTable", "o1", "created"),
        ("LiteLLM_UserTable", "u1", "created"),
        ("LiteLLM_OrganizationMembership", "o1:u1", "created"),
        ("LiteLLM_OrganizationTable", "o1", "updated"),
        ("LiteLLM_OrganizationMembership", "o1:u1", "updated"),
        ("LiteLLM_OrganizationMembership", "o1:u1", "updated"),
        ("LiteLLM_OrganizationTable", "o2", "created"),
        ("LiteLLM_OrganizationTable", "o2", "deleted"),
    ]


def test_before_and_updated_values(client: TestClient) -> None:
    scenario(client)
    org = audit(client, object_id="o1", table_name="LiteLLM_OrganizationTable")["audit_logs"]
    created, updated = org
    # Created: no before value, the whole new row.
    assert created["before_value"] is None
    assert created["updated_values"]["organization_alias"] == "a"
    # Updated: the row before, and only what changed.
    assert updated["before_value"]["organization_alias"] == "a"
    assert updated["updated_values"] == {"organization_alias": "b", "updated_by": "default_user_id"}
    budget_id = created["updated_values"]["budget_id"]
    budget = audit(client, object_id=budget_id)["audit_logs"]
    assert [b["action"] for b in budget] == ["created", "updated"]
    assert budget[1]["before_value"]["max_budget"] == 3 and budget[1]["updated_values"] == {"max_budget": 7}
    # Deleted: the row before, no new values.
    deleted = audit(client, object_id="o2", action="deleted")["audit_logs"]
    assert len(deleted) == 1 and deleted[0]["before_value"]["organization_alias"] == "x"
    assert deleted[0]["updated_values"] is None


def test_changed_by_header_is_recorded(client: TestClient) -> None:
    # Admin creates an organization on behalf of someone else.
    headers = {**ADMIN, "LiteLLM-Changed-By": "krrish@berri.ai"}
    client.post("/organization/new", json={"organization_alias": "a"}, headers=headers)
    entries = audit(client)["audit_logs"]
    assert [e["changed_by"] for e in entries] == ["krrish@berri.ai", "krrish@berri.ai"]
    # The key that made the change is still the admin's.
    assert {e["changed_by_api_key"] for e in entries} == {MASTER_HASH}
    assert audit(client, changed_by="krrish@berri.ai")["total"] == 2
    assert audit(client, changed_by="default_user_id")["total"] == 0


def test_filters_combine_with_and(client: TestClient) -> None:
    scenario(client)
    everything = audit(client, page_size=100)
    assert everything["total"] == len(everything["audit_logs"]) == 12
    membership = audit(client, table_name="LiteLLM_OrganizationMembership")
    assert membership["total"] == 3
    assert audit(client, table_name="LiteLLM_OrganizationMembership", action="created")["total"] == 1
    assert audit(client, object_id="o1", action="deleted")["total"] == 0
    # Dates are inclusive at both ends.
    third = everything["audit_logs"][2]["updated_at"]
    fifth = everything["audit_logs"][4]["updated_at"]
    between = audit(client, start_date=third, end_date=fifth, page_size=100)["audit_logs"]
    assert [e["id"] for e in between] == [e["id"] for e in everything["audit_logs"]
                                          if third <= e["updated_at"] <= fifth]
    assert between[0]["updated_at"] == third and between[-1]["updated_at"] == fifth
    # A bare date covers the whole day.
    today = third[:10]
    assert audit(client, start_date=today, end_date=today)["total"] == 12


def test_bad_filters_are_422(client: TestClient) -> None:
    for params in ({"start_date": "yesterday"}, {"page": 0}, {"page_size": 0}, {"page_size": 100000}):
        response = client.get("/audit", params=params, headers=ADMIN)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["loc"][0] == "query"


def test_empty_filters_are_absent_filters(client: TestClient) -> None:
    # LiteLLM tests each filter for truth, so `?start_date=&end_date=` (what a form or a generated
    # client sends for an unset field) filters nothing rather than being a 422.
    scenario(client)
    everything = audit(client, page_size=100)
    empty = {name: "" for name in ("object_id", "table_name", "action", "changed_by", "start_date", "end_date")}
    assert audit(client, page_size=100, **empty) == everything
    assert audit(client, object_id="o1", start_date="")["total"] == audit(client, object_id="o1")["total"] > 0


def test_pages_are_stable_while_events_arrive(client: TestClient) -> None:
    scenario(client)
    first = audit(client, page=1, page_size=4)
    second = audit(client, page=2, page_size=4)
    assert first["total"] == 12 and first["total_pages"] == 3
    assert len(first["audit_logs"]) == 4 and len(second["audit_logs"]) == 4
    # New events arrive between two page reads.
    client.post("/organization/new", json={"organization_alias": "later"}, headers=ADMIN)
    # Earlier pages are unchanged; the new entries are at the end.
    assert audit(client, page=1, page_size=4)["audit_logs"] == first["audit_logs"]
    assert audit(client, page=2, page_size=4)["audit_logs"] == second["audit_logs"]
    last = audit(client, page=4, page_size=4)
    assert [e["event_type"] for e in last["audit_logs"]] == ["BudgetCreated", "OrgCreated"]
    # A page past the end is empty and keeps the total.
    past = audit(client, page=9, page_size=4)
    assert past["audit_logs"] == [] and past["total"] == 14 and past["total_pages"] == 4
    # page_size 100 is allowed.
    assert len(audit(client, page_size=100)["audit_logs"]) == 14


def test_one_entry_by_id_and_unknown_id(client: TestClient) -> None:
    scenario(client)
    entry = audit(client)["audit_logs"][3]
    response = client.get(f"/audit/{entry['id']}", headers=ADMIN)
    assert response.status_code == 200 and response.json() == entry
    missing = client.get("/audit/not-an-entry", headers=ADMIN)
    assert missing.status_code == 404
    assert "not found" in missing.json()["detail"]["error"]


def test_audit_needs_a_key(client: TestClient) -> None:
    response = client.get("/audit")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Authentication Error, No api key passed in."


@pytest.fixture
def virtual_keys(runtime: Runtime) -> dict[str, dict[str, str]]:
    """Keys for two users, resolved the way the identity branch's keys will be (role from the user)."""
    users = {"sk-u1-key": "u1", "sk-u9-key": "u9"}

    def resolve(key: str, hashed: str) -> Caller | None:
        user = users.get(key)
        return None if user is None else Caller(user_id=user, role="internal_user", api_key_hash=hashed)

    runtime.authenticator = Authenticator(MASTER_KEY, resolve)
    return {user: {"Authorization": f"Bearer {key}"} for key, user in users.items()}


def test_org_admin_sees_only_their_organization(client: TestClient,
                                                virtual_keys: dict[str, dict[str, str]]) -> None:
    scenario(client)  # u1 ends as org_admin of o1
    client.post("/organization/new", json={"organization_alias": "z", "organization_id": "o3"}, headers=ADMIN)
    client.post("/organization/member_add", json={"organization_id": "o3",
                "member": {"user_id": "u9", "role": "internal_user"}}, headers=ADMIN)
    mine = audit(client, headers=virtual_keys["u1"], page_size=100)["audit_logs"]
    # o1's own entries, its membership's, and both budgets o1 uses; nothing of o2 or o3.
    assert {e["table_name"] for e in mine} == {"LiteLLM_OrganizationTable",
                                                "LiteLLM_OrganizationMembership", "LiteLLM_BudgetTable"}
    assert {e["object_id"] for e in mine if e["table_name"] == "LiteLLM_OrganizationTable"} == {"o1"}
    assert len(mine) == 2 + 3 + 2 + 1  # org created/updated, 3 membership, org budget x2, member budget
    # An entry of another organization is not found for them.
    other = audit(client, object_id="o3")["audit_logs"][0]
    assert client.get(f"/audit/{other['id']}", headers=virtual_keys["u1"]).status_code == 404
    assert client.get(f"/audit/{mine[0]['id']}", headers=virtual_keys["u1"]).status_code == 200
    # A plain member of an organization is refused, in LiteLLM's words.
    refused = client.get("/audit", headers=virtual_keys["u9"])
    assert refused.status_code == 401
    assert "Only proxy admin" in refused.json()["error"]["message"]


def test_request_id_of_the_command_is_in_the_entry(client: TestClient, runtime: Runtime) -> None:
    # A command made while serving request "req-42" (the operability branch sets it per request).
    actor = Actor(user_id="alice", api_key_hash=key_hash("sk-alice"), request_id="req-42")
    runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias="a", organization_id="o1"))
    runtime.sync()
    entries = audit(client)["audit_logs"]
    assert [(e["request_id"], e["changed_by"], e["changed_by_api_key"]) for e in entries] == [
        ("req-42", "alice", key_hash("sk-alice"))] * 2


def test_answers_conform_to_the_openapi_document(client: TestClient) -> None:
    from tests.http.test_openapi import conforms

    document = client.get("/openapi.json").json()
    scenario(client)
    listed = audit(client, page_size=100)
    conforms(document, "/audit", "get", 200, listed)
    entry = client.get(f"/audit/{listed['audit_logs'][4]['id']}", headers=ADMIN)
    conforms(document, "/audit/{id}", "get", 200, entry.json())
    conforms(document, "/audit/{id}", "get", 404, client.get("/audit/nope", headers=ADMIN).json())
    conforms(document, "/audit", "get", 422, client.get("/audit", params={"page": 0}, headers=ADMIN).json())
    conforms(document, "/audit", "get", 401, client.get("/audit").json())
