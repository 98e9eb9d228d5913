"""Answers are true: a committed change is answered as done, a dropped one as 503, never the reverse.

The faults are real: a read model that fails, no projector at all, a write lock held by another
connection, a network between orgledger and PostgreSQL that is cut."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from starlette.testclient import TestClient

from orgledger.adapters.http.endpoint import VIEWS_LAG_HEADER
from orgledger.adapters.http.app import build_app
from orgledger.adapters.projector.postgres_projector import ProjectorService
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.projections.base import Projection
from orgledger.projections.store import Cursor
from tests.conftest import ADMIN, MASTER_KEY, make_settings
from tests.http.api import NEW_ORG_KEYS, head
from tests.postgres import PG_URL, fresh_schema, postgres_settings
from tests.tcp_forwarder import TcpForwarder


class FailsOnPoison(Projection):
    """A read model that cannot take one event: the views then stay behind the log."""

    name = "fails_on_poison"

    def ddl(self) -> list[str]:
        return []

    def apply(self, event: Any, cur: Cursor, position: int) -> None:  # type: ignore[override]
        if getattr(event, "organization_alias", None) == "poison":
            raise RuntimeError("this read model cannot hold that event")


def created_orgs(runtime: Runtime) -> list[str]:
    events = runtime.ledger.recorder.select_notifications(start=0, limit=10_000)
    return [runtime.ledger.mapper.to_domain_event(n).organization_id for n in events
            if n.topic.endswith("Organization.OrgCreated")]


@contextmanager
def served(settings: Settings, *, projector: bool = False) -> Iterator[tuple[Runtime, TestClient]]:
    """The app over a runtime of these settings, with a PostgreSQL projector if asked."""
    runtime = build_runtime(settings)
    service = ProjectorService(settings).start() if projector else None
    try:
        with TestClient(build_app(runtime=runtime)) as client:
            yield runtime, client
    finally:
        if service is not None:
            service.stop()
        runtime.close()


@pytest.fixture(params=["popo", "sqlite"])
def local(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    settings = dataclasses.replace(make_settings(request.param, tmp_path), request_timeout=2)
    with served(settings) as served_app:
        yield served_app


def test_a_committed_change_whose_views_fail_is_answered_done_with_the_lag_header(
    local: tuple[Runtime, TestClient],
) -> None:
    runtime, client = local
    runtime.projector.projections.append(FailsOnPoison())
    runtime.projector.create_tables()
    response = client.post("/organization/new", json={"organization_alias": "poison", "max_budget": 5},
                           headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == NEW_ORG_KEYS
    assert body["organization_alias"] == "poison"
    assert body["litellm_budget_table"]["max_budget"] == 5
    assert created_orgs(runtime) == [body["organization_id"]]
    assert response.headers[VIEWS_LAG_HEADER] == str(head(runtime))
    # Later commands are committed and answered as such too, with what they decided.
    added = client.post("/organization/member_add", headers=ADMIN, json={
        "organization_id": body["organization_id"], "member": {"user_id": "ann", "role": "org_admin"}})
    assert added.status_code == 200, added.text
    assert VIEWS_LAG_HEADER in added.headers
    assert [u["user_id"] for u in added.json()["updated_users"]] == ["ann"]
    assert added.json()["updated_organization_memberships"][0]["user_role"] == "org_admin"


def test_an_answer_whose_views_caught_up_has_no_lag_header(local: tuple[Runtime, TestClient]) -> None:
    _, client = local
    response = client.post("/organization/new", json={"organization_alias": "fine"}, headers=ADMIN)
    assert response.status_code == 200
    assert VIEWS_LAG_HEADER not in response.headers


def test_a_write_that_cannot_start_before_its_deadline_is_503_and_never_committed(tmp_path: Path) -> None:
    settings = dataclasses.replace(make_settings("sqlite", tmp_path), request_timeout=1)
    with served(settings) as (runtime, client):
        before = head(runtime)
        # Another process holds SQLite's write lock (as a long `projections rebuild` might).
        blocker = sqlite3.connect(settings.data_dir / "events.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        response = client.post("/organization/new", json={"organization_alias": "late"}, headers=ADMIN)
        answered = time.monotonic() - started
        blocker.execute("ROLLBACK")
        blocker.close()
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "503"
        assert "not applied" in response.json()["error"]["message"]
        assert answered < 2.5
        # The writer gets the lock now, and must leave the abandoned request out.
        time.sleep(1.0)
        assert head(runtime) == before
        assert created_orgs(runtime) == []
        ok = client.post("/organization/new", json={"organization_alias": "next"}, headers=ADMIN)
        assert ok.status_code == 200
        assert created_orgs(runtime) == [ok.json()["organization_id"]]


@pytest.fixture
def pg_schema() -> Iterator[str]:
    with fresh_schema() as schema:
        yield schema


@pytest.mark.postgres
def test_a_postgres_write_blocked_past_its_deadline_is_503_and_never_committed(
    pg_schema: str, tmp_path: Path,
) -> None:
    settings = dataclasses.replace(postgres_settings(pg_schema, tmp_path, MASTER_KEY), request_timeout=1)
    with served(settings, projector=True) as (runtime, client), psycopg.connect(PG_URL) as blocker:
        before = head(runtime)
        table = sql.Identifier(pg_schema, runtime.ledger.recorder.events_table_name)
        blocker.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
        response = client.post("/organization/new", json={"organization_alias": "late"}, headers=ADMIN)
        blocker.rollback()
        assert response.status_code == 503, response.text
        time.sleep(1.0)
        assert head(runtime) == before
        assert client.post("/organization/new", json={"organization_alias": "b"},
                           headers=ADMIN).status_code == 200
        assert len(created_orgs(runtime)) == 1


@pytest.mark.postgres
def test_without_a_projector_a_postgres_command_is_answered_done_with_the_lag_header(
    pg_schema: str, tmp_path: Path,
) -> None:
    settings = dataclasses.replace(postgres_settings(pg_schema, tmp_path, MASTER_KEY), request_timeout=1)
    with served(settings) as (runtime, client):
        started = time.monotonic()
        response = client.post("/organization/new", json={"organization_alias": "lagging"},
                               headers=ADMIN)
        assert time.monotonic() - started < 2.5
        assert response.status_code == 200, response.text
        assert response.headers[VIEWS_LAG_HEADER] == str(head(runtime))
        organization_id = response.json()["organization_id"]
        projector = ProjectorService(settings).start()
        try:
            info = client.get("/organization/info", params={"organization_id": organization_id},
                              headers=ADMIN)
            deadline = time.monotonic() + 10
            while info.status_code == 404 and time.monotonic() < deadline:
                time.sleep(0.1)
                info = client.get("/organization/info", params={"organization_id": organization_id},
                                  headers=ADMIN)
            assert info.status_code == 200
            assert info.json()["organization_alias"] == "lagging"
        finally:
            projector.stop()


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
def test_a_postgres_outage_answers_503_within_the_deadline_and_commits_nothing_later(
    pg_schema: str, tmp_path: Path, mode: str,
) -> None:
    with TcpForwarder("127.0.0.1", 5432) as forwarder:
        settings = dataclasses.replace(postgres_settings(pg_schema, tmp_path, MASTER_KEY),
                                       database_url=forwarder.url(PG_URL), request_timeout=2)
        with served(settings, projector=True) as (runtime, client):
            assert client.post("/organization/new", json={"organization_alias": "before"},
                               headers=ADMIN).status_code == 200
            forwarder.cut(mode)  # type: ignore[arg-type]
            started = time.monotonic()
            response = client.post("/organization/new", json={"organization_alias": "during"},
                                   headers=ADMIN)
            assert time.monotonic() - started < 3.5
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "503"
            read = client.get("/organization/list", headers=ADMIN)
            assert read.status_code == 503
            forwarder.restore()
            # Long enough for anything still in flight to reach the database, or give up.
            time.sleep(8)
            after = client.post("/organization/new", json={"organization_alias": "after"},
                                headers=ADMIN)
            assert after.status_code == 200, after.text
    with psycopg.connect(PG_URL) as conn:
        aliases = [r[0] for r in conn.execute(sql.SQL(
            "SELECT organization_alias FROM {} ORDER BY seq").format(sql.Identifier(pg_schema, "orgs")))]
    check = build_runtime(postgres_settings(pg_schema, tmp_path, MASTER_KEY))
    try:
        assert len(created_orgs(check)) == 2
    finally:
        check.close()
    assert aliases in (["before", "after"], [])


@pytest.mark.postgres
@pytest.mark.parametrize("reached_server", [False, True], ids=["lost-before", "answer-lost"])
def test_a_connection_lost_during_the_commit_is_503_of_unknown_outcome(
    pg_schema: str, tmp_path: Path, reached_server: bool,
) -> None:
    with TcpForwarder("127.0.0.1", 5432) as forwarder:
        settings = postgres_settings(pg_schema, tmp_path, MASTER_KEY)
        settings = dataclasses.replace(settings, database_url=forwarder.url(PG_URL))
        with served(settings, projector=True) as (runtime, client):
            # The commit of the transaction that inserts the organization, not some other one.
            forwarder.trip_on(b"COMMIT", forward=reached_server, after=b"Organization.OrgCreated")
            response = client.post("/organization/new", json={"organization_alias": "in doubt"},
                                   headers=ADMIN)
            assert response.status_code == 503, response.text
            assert "may or may not have been applied" in response.json()["error"]["message"]
            # Not retried behind the caller's back: one event at most, as PostgreSQL decided.
            assert len(created_orgs(runtime)) == (1 if reached_server else 0)
