"""LiteLLM's own organization member flow (its tests/test_organizations.py), over HTTP against a
real `orgledger serve`, continued with the new org_admin's own key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.server import MASTER_KEY, running_server

pytestmark = pytest.mark.e2e


def client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_member_flow_with_an_org_admins_own_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with (running_server({"ORGLEDGER_DATA_DIR": str(data_dir)}) as server,
          client(server.url, MASTER_KEY) as admin):
        # Admin creates two organizations, as LiteLLM's test does.
        org = admin.post("/organization/new", json={"organization_alias": "marketing",
                                                    "models": ["azure-models"], "max_budget": None})
        assert org.status_code == 200, org.text
        org_id = org.json()["organization_id"]
        other_id = admin.post("/organization/new", json={"organization_alias": "sales"}).json()["organization_id"]
        # Admin creates a user with LiteLLM's /user/new body, fields orgledger ignores included.
        user = admin.post("/user/new", json={
            "user_email": "dana@example.com", "models": ["azure-models"], "aliases": {"m": "azure-models"},
            "duration": "1h", "max_budget": 10, "budget_duration": "30d", "team_id": "t-1"})
        assert user.status_code == 200, user.text
        user_id, user_key = user.json()["user_id"], user.json()["key"]
        assert user_key.startswith("sk-") and user.json()["expires"] is not None
        # member_add as internal_user; the list shows the member.
        added = admin.post("/organization/member_add", json={
            "organization_id": org_id, "member": {"user_id": user_id, "role": "internal_user"}})
        assert added.status_code == 200, added.text
        [listed] = [o for o in admin.get("/organization/list").json() if o["organization_id"] == org_id]
        assert listed["members"][0]["user_id"] == user_id
        # member_update to org_admin.
        updated = admin.patch("/organization/member_update", json={
            "organization_id": org_id, "user_id": user_id, "role": "org_admin"})
        assert updated.status_code == 200 and updated.json()["user_role"] == "org_admin"

        with client(server.url, user_key) as org_admin:
            # The user's own key adds a member to its organization...
            own = org_admin.post("/organization/member_add", json={
                "organization_id": org_id, "member": {"user_id": "eve", "role": "internal_user_viewer"}})
            assert own.status_code == 200, own.text
            # ...reads it...
            assert org_admin.get("/organization/info", params={"organization_id": org_id}).status_code == 200
            # ...and is refused on the other organization, with LiteLLM's text.
            refused = org_admin.post("/organization/member_add", json={
                "organization_id": other_id, "member": {"user_id": "eve", "role": "internal_user"}})
            assert refused.status_code == 401
            assert refused.json()["error"]["message"].startswith(
                "You do not have a role within the selected organization. Passed organization_id: "
                f"{other_id}")
            # The org_admin removes the member they added.
            deleted = org_admin.request("DELETE", "/organization/member_delete",
                                        json={"organization_id": org_id, "user_id": "eve"})
            assert deleted.status_code == 200 and deleted.json()["user_id"] == "eve"
        # LiteLLM's flow ends with member_delete by the admin.
        final = admin.request("DELETE", "/organization/member_delete",
                              json={"organization_id": org_id, "user_id": user_id})
        assert final.status_code == 200
        members = admin.get("/organization/info", params={"organization_id": org_id}).json()["members"]
        assert members == []

        # Deleting the organization revokes a key issued for it.
        org_key = admin.post("/key/generate", json={"user_id": user_id, "organization_id": org_id}).json()["key"]
        with client(server.url, org_key) as scoped:
            assert scoped.get("/organization/list").status_code == 200
            assert admin.request("DELETE", "/organization/delete",
                                 json={"organization_ids": [org_id]}).status_code == 200
            assert scoped.get("/organization/list").status_code == 401

    # The raw keys were never written: not to the event log, the views or the server's log.
    stored = b"".join(p.read_bytes() for p in data_dir.iterdir()) + server.log.read_bytes()
    for key in (user_key, org_key):
        assert key.encode() not in stored
