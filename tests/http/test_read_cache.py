"""Cached reads: GET /organization/info and /list and key look-ups are answered from memory until
the views change, whoever changes them, and never across callers who may see different things."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.http.app import build_app
from orgledger.adapters.http.read_cache import APPLICATION_NAME
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.application.commands import AddMembers, CreateOrg, CreateUser, NewMember, UpdateOrg
from orgledger.domain.key import Key, token_of
from orgledger.domain.values import Actor
from tests.conftest import ADMIN, MASTER_KEY, backend_settings, make_settings
from tests.http.api import add_members, info, new_org
from tests.integration.helpers import views_left_behind
from tests.postgres import connect

ROOT = Actor(user_id="default_user_id")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def hits(runtime: Runtime) -> int:
    return runtime.reads.hits


def test_a_repeated_read_is_served_from_the_cache_until_a_write(client: TestClient, runtime: Runtime) -> None:
    org = new_org(client, organization_alias="cached")["organization_id"]
    # The same read twice: the second is a cache hit with the same answer.
    first = info(client, org)
    before = hits(runtime)
    assert info(client, org) == first
    assert hits(runtime) == before + 1
    # A member joins through the API; the next read shows them (read-your-writes).
    add_members(client, org, {"role": "internal_user", "user_id": "joined"})
    assert [m["user_id"] for m in info(client, org)["members"]] == ["joined"]
    # The list's answer changes with the views too.
    listed = client.get("/organization/list", params={"org_alias": "cach"}, headers=ADMIN).json()
    assert [o["organization_id"] for o in listed] == [org]
    client.patch("/organization/update", json={"organization_id": org, "organization_alias": "renamed"},
                 headers=ADMIN).raise_for_status()
    assert client.get("/organization/list", params={"org_alias": "cach"}, headers=ADMIN).json() == []
    assert info(client, org)["organization_alias"] == "renamed"


def test_a_missing_organization_is_found_once_created(client: TestClient) -> None:
    # Not there: 404, and that answer is cached...
    for _ in range(2):
        response = client.get("/organization/info", params={"organization_id": "later"}, headers=ADMIN)
        assert response.status_code == 404
    # ...until the organization is created.
    new_org(client, organization_id="later")
    assert info(client, "later")["organization_id"] == "later"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_runtimes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Runtime, Runtime, TestClient]]:
    """Two runtimes on one store, as two processes have: each its own connections."""
    with backend_settings(request.param, tmp_path) as settings:
        serving = build_runtime(settings)
        other = build_runtime(settings)
        try:
            with TestClient(build_app(runtime=serving)) as client:
                yield serving, other, client
        finally:
            other.close()
            serving.close()


def test_a_write_through_another_runtime_is_seen(two_runtimes: tuple[Runtime, Runtime, TestClient]) -> None:
    serving, other, client = two_runtimes
    org = new_org(client, organization_id="shared")["organization_id"]
    info(client, org)
    before = hits(serving)
    assert info(client, org)["members"] == []
    assert hits(serving) == before + 1
    # The other runtime adds a member and projects it into the shared views.
    other.ledger.add_members(AddMembers(actor=ROOT, organization_id=org,
                                        members=[NewMember(role="internal_user", user_id="elsewhere")]))
    other.sync()
    # The serving runtime's next read shows it.
    assert [m["user_id"] for m in info(client, org)["members"]] == ["elsewhere"]


@pytest.mark.postgres
def test_the_version_connection_comes_back_after_postgres_drops_it(pg_settings: Settings) -> None:
    runtime = build_runtime(pg_settings)
    try:
        with TestClient(build_app(runtime=runtime)) as client:
            org = new_org(client, organization_id="kept")["organization_id"]
            assert info(client, org)["members"] == []
            # As a PostgreSQL restart or an administrator would: its backend ends under it.
            with connect() as admin:
                ended = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = %s AND query LIKE %s",
                    (APPLICATION_NAME, f"%{pg_settings.pg_schema}%")).fetchall()
            assert ended == [(True,)]
            # The next read reconnects and still sees new writes.
            add_members(client, org, {"role": "internal_user", "user_id": "after"})
            assert [m["user_id"] for m in info(client, org)["members"]] == ["after"]
    finally:
        runtime.close()
    # Closing the runtime closes it too (its backend exits a moment later).
    with connect() as admin:
        for _ in range(50):
            left = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                                 " AND query LIKE %s", (APPLICATION_NAME, f"%{pg_settings.pg_schema}%")).fetchone()
            if left == (0,):
                break
            time.sleep(0.1)
    assert left == (0,)


def test_a_rebuild_in_another_process_is_seen(tmp_path: Path) -> None:
    settings = make_settings("sqlite", tmp_path)
    runtime = build_runtime(settings)
    try:
        with TestClient(build_app(runtime=runtime)) as client:
            new_org(client, organization_id="o1", organization_alias="before")
            assert info(client, "o1")["organization_alias"] == "before"
            # An event the views have not applied yet, as a process without a projector writes it.
            with views_left_behind(runtime):
                runtime.ledger.update_org(UpdateOrg(actor=ROOT, organization_id="o1", organization_alias="after"))
            assert info(client, "o1")["organization_alias"] == "before"
            # `orgledger projections rebuild --all` in its own process switches the tables over.
            subprocess.run(
                [sys.executable, "-m", "orgledger.adapters.cli.main", "projections", "rebuild", "--all"],
                env={**os.environ, "ORGLEDGER_DATA_DIR": str(settings.data_dir),
                     "LITELLM_MASTER_KEY": MASTER_KEY},
                check=True, capture_output=True,
            )
            assert info(client, "o1")["organization_alias"] == "after"
    finally:
        runtime.close()


@pytest.fixture
def users(runtime: Runtime) -> dict[str, str]:
    """Keys of two internal users; "alice" is a member of org-a, "bob" of org-b."""
    keys = {}
    for user in ("alice", "bob"):
        keys[user] = runtime.ledger.create_user(CreateUser(actor=ROOT, user_id=user,
                                                           user_role="internal_user")).new_key.key
    for org, user in (("org-a", "alice"), ("org-b", "bob")):
        runtime.ledger.create_org(CreateOrg(actor=ROOT, organization_alias=org, organization_id=org))
        runtime.ledger.add_members(AddMembers(actor=ROOT, organization_id=org,
                                              members=[NewMember(role="org_admin", user_id=user)]))
    runtime.sync()
    return keys


def test_cached_answers_never_cross_callers(client: TestClient, users: dict[str, str]) -> None:
    def listed(headers: dict[str, str]) -> list[str]:
        response = client.get("/organization/list", headers=headers)
        assert response.status_code == 200, response.text
        return [o["organization_id"] for o in response.json()]

    # Each asks twice, so each answer has been cached before the next caller asks the same.
    for _ in range(2):
        assert listed(ADMIN) == ["org-a", "org-b"]
        assert listed(bearer(users["alice"])) == ["org-a"]
        assert listed(bearer(users["bob"])) == ["org-b"]
    # The admin's cached info of org-b is not handed to alice, who is not a member of it.
    info(client, "org-b")
    refused = client.get("/organization/info", params={"organization_id": "org-b"},
                         headers=bearer(users["alice"]))
    assert refused.status_code in (401, 403), refused.text
    ok = client.get("/organization/info", params={"organization_id": "org-a"}, headers=bearer(users["alice"]))
    assert ok.status_code == 200, ok.text


def test_losing_a_membership_ends_access_at_once(client: TestClient, users: dict[str, str]) -> None:
    alice = bearer(users["alice"])
    for _ in range(2):
        assert client.get("/organization/info", params={"organization_id": "org-a"}, headers=alice).status_code == 200
    client.request("DELETE", "/organization/member_delete", json={"organization_id": "org-a", "user_id": "alice"},
                   headers=ADMIN).raise_for_status()
    assert client.get("/organization/info", params={"organization_id": "org-a"}, headers=alice).status_code != 200
    assert client.get("/organization/list", headers=alice).json() == []


def test_a_revoked_key_is_refused_at_once(client: TestClient, users: dict[str, str]) -> None:
    alice = bearer(users["alice"])
    for _ in range(2):
        assert client.get("/organization/list", headers=alice).status_code == 200
    client.post("/key/delete", json={"keys": [users["alice"]]}, headers=ADMIN).raise_for_status()
    response = client.get("/organization/list", headers=alice)
    assert response.status_code == 401, response.text


def test_a_key_expires_while_cached(client: TestClient, runtime: Runtime) -> None:
    raw = "sk-soon-expired"
    expires = datetime.now(timezone.utc) + timedelta(seconds=0.5)
    runtime.ledger.save(Key(token=token_of(raw), user_id=None, key_alias=None, models=[],
                            organization_id=None, expires=expires, actor=ROOT))
    runtime.sync()
    assert client.get("/organization/list", headers=bearer(raw)).status_code == 200
    time.sleep(max((expires - datetime.now(timezone.utc)).total_seconds(), 0) + 0.05)
    response = client.get("/organization/list", headers=bearer(raw))
    assert response.status_code == 400 and "Expired Key" in response.text


def test_with_the_cache_turned_off_every_read_goes_to_the_views(tmp_path: Path) -> None:
    from dataclasses import replace

    runtime = build_runtime(replace(make_settings("sqlite", tmp_path), read_cache_mb=0))
    try:
        with TestClient(build_app(runtime=runtime)) as client:
            org = new_org(client, organization_alias="uncached")["organization_id"]
            assert info(client, org) == info(client, org)
            assert (runtime.reads.hits, len(runtime.reads)) == (0, 0)
    finally:
        runtime.close()
