from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import ADMIN


def test_new_then_info_shows_the_organization(client: TestClient) -> None:
    # Admin creates an organization.
    created = client.post("/organization/new", json={"organization_alias": "marketing"}, headers=ADMIN)
    assert created.status_code == 200
    org_id = created.json()["organization_id"]
    # Its info answers from the read model.
    info = client.get("/organization/info", params={"organization_id": org_id}, headers=ADMIN)
    assert info.status_code == 200
    assert info.json()["organization_alias"] == "marketing"
    assert info.json()["members"] == [] and info.json()["teams"] == []
