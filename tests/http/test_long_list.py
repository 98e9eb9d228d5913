"""/organization/list has no pages (LiteLLM's has none), so a long list is read and encoded a page
of organizations at a time and sent in chunks: the answer is the same as in one piece, and only
answers short enough are kept in the read cache."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.http import queries
from orgledger.adapters.runtime import Runtime
from orgledger.projections.organizations import queries as organization_queries
from tests.conftest import ADMIN

from .api import add_members, new_org


@pytest.fixture
def orgs(client: TestClient) -> list[str]:
    ids = []
    for i in range(7):
        org_id = new_org(client, organization_id=f"o{i}", organization_alias=f"team {i % 2}")["organization_id"]
        add_members(client, org_id, *({"user_id": f"u{j}", "role": "internal_user"} for j in range(i % 3)))
        ids.append(org_id)
    return ids


def test_pages_of_the_view_add_up_to_the_whole_list(runtime: Runtime, orgs: list[str]) -> None:
    view = runtime.organizations
    with runtime.read() as cur:
        for filters in ({}, {"org_alias": "team 1"}, {"member": "u1"}, {"org_id": "o3"}, {"org_alias": "none"}):
            pages = list(view.org_pages(cur, size=2, **filters))
            assert all(1 <= len(p) <= 2 for p in pages)
            assert [o for p in pages for o in p] == view.orgs(cur, **filters), filters


def test_a_long_list_is_streamed_identical_and_not_cached(client: TestClient, runtime: Runtime, orgs: list[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages of 2 organizations, and any answer over 1,000 bytes counts as long.
    monkeypatch.setattr(organization_queries, "ORGS_PAGE", 2)
    monkeypatch.setattr(queries, "MAX_ENTRY_BYTES", 1000)
    hits = runtime.reads.hits
    streamed = [client.get("/organization/list", headers=ADMIN) for _ in range(2)]
    assert runtime.reads.hits == hits  # read each time, never cached
    short = client.get("/organization/list", params={"org_id": "o1"}, headers=ADMIN)
    again = client.get("/organization/list", params={"org_id": "o1"}, headers=ADMIN)
    assert short.content == again.content and runtime.reads.hits == hits + 1
    assert client.get("/organization/list", params={"org_alias": "nothing"}, headers=ADMIN).json() == []
    monkeypatch.undo()
    whole = client.get("/organization/list", headers=ADMIN)
    assert whole.status_code == 200 and "content-length" in whole.headers
    assert [o["organization_id"] for o in whole.json()] == orgs
    for answer in streamed:
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        assert "content-length" not in answer.headers  # sent in chunks
        assert answer.content == whole.content
