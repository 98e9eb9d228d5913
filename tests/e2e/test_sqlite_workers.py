"""`serve --workers 2` on SQLite: two processes write one store and read views kept by one projector.

Every client below opens a new connection per request, so either worker may answer it."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from orgledger.adapters.http.endpoint import VIEWS_LAG_HEADER
from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.settings import Settings
from orgledger.adapters.projector.sqlite_workers import projector_running
from tests.conftest import ADMIN, make_settings
from tests.e2e import orgledger_processes as processes
from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.e2e
NEW_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)


def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers=ADMIN, timeout=60, limits=NEW_CONNECTIONS)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings("sqlite", tmp_path)


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    """`serve --workers 2`, which runs the projector in its supervising process."""
    env = processes.settings_env(settings, {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")})
    with running_server(env, ["--workers", "2"], startup_timeout=processes.STARTUP_TIMEOUT) as server:
        processes.wait_until(lambda: projector_running(settings), what="the projector to take its lock")
        yield server


def in_parallel(count: int, task: Any) -> list[Any]:
    start = threading.Barrier(count)

    def run(n: int) -> Any:
        start.wait()
        return task(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_creates_of_one_id_make_one_organization(served: Server) -> None:
    def create(n: int) -> int:
        with client(served.url) as http:
            return http.post("/organization/new", json={
                "organization_id": "dup", "organization_alias": f"try {n}"}).status_code

    statuses = in_parallel(8, create)
    assert sorted(statuses) == [200] + [400] * 7, statuses


def test_concurrent_retries_of_one_idempotency_key_make_one_change(served: Server) -> None:
    def create(n: int) -> tuple[int, str]:
        with client(served.url) as http:
            answer = http.post("/organization/new", json={"organization_alias": "once"},
                               headers={"Idempotency-Key": "k1"})
            return answer.status_code, answer.json().get("organization_id")

    answers = in_parallel(8, create)
    # 409: applied by another worker, whose answer is not recorded yet (adapters/http/idempotency.py).
    created = {org for status, org in answers if status == 200}
    assert len(created) == 1 and {status for status, _ in answers} <= {200, 409}, answers
    with client(served.url) as http:
        assert [o["organization_alias"] for o in http.get("/organization/list").json()] == ["once"]


def test_a_delete_wins_against_a_stream_of_joins_and_leaves_no_member_behind(
        served: Server, settings: Settings) -> None:
    with client(served.url) as http:
        assert http.post("/organization/new", json={"organization_id": "busy", "organization_alias": "b"}
                         ).status_code == 200
    stop, joined = threading.Event(), []

    def join(n: int) -> None:
        with client(served.url) as http:
            for i in range(10_000):
                if stop.is_set():
                    return
                user = f"u{n}-{i}"
                answer = http.post("/organization/member_add", json={
                    "organization_id": "busy", "member": {"role": "internal_user", "user_id": user}})
                if answer.status_code == 200:
                    joined.append(user)

    joiners = [threading.Thread(target=join, args=(n,)) for n in range(3)]
    for joiner in joiners:
        joiner.start()
    try:
        processes.wait_until(lambda: len(joined) >= 10, timeout=60, what="joins")
        started = time.monotonic()
        with client(served.url) as http:
            deleted = http.request("DELETE", "/organization/delete", json={"organization_ids": ["busy"]})
        took = time.monotonic() - started
    finally:
        stop.set()
        for joiner in joiners:
            joiner.join(60)
    assert deleted.status_code == 200, deleted.text
    assert took < 10  # not starved by the joins that the other worker writes
    runtime = build_runtime(settings)
    try:
        with runtime.read() as cur:
            assert runtime.organizations.org(cur, "busy") is None
            assert runtime.organizations.memberships(cur, "busy", joined) == []
    finally:
        runtime.close()


def test_a_scrape_of_any_worker_counts_the_requests_of_both(served: Server) -> None:
    def read(n: int) -> int:
        with client(served.url) as http:
            return sum(http.get("/organization/list").status_code == 200 for _ in range(10))

    assert sum(in_parallel(4, read)) == 40

    def listed(scrape: str) -> float:
        return sum(s.value for family in text_string_to_metric_families(scrape) for s in family.samples
                   if s.name == "orgledger_http_requests_total" and s.labels.get("route") == "/organization/list")

    with client(served.url) as http:
        assert {listed(http.get("/metrics").text) for _ in range(6)} == {40}


def test_a_killed_projector_leaves_answers_lagging_then_a_new_one_catches_up(
        settings: Settings, tmp_path: Path) -> None:
    env = processes.settings_env(settings, {"ORGLEDGER_REQUEST_TIMEOUT": "2"})
    projector = processes.start(["projections", "run"], env, tmp_path / "projector.log")
    try:
        with running_server(env, ["--workers", "2", "--no-projector"],
                            startup_timeout=processes.STARTUP_TIMEOUT) as server, client(server.url) as http:
            processes.wait_until(lambda: projector_running(settings), what="the projector to take its lock")
            assert http.post("/organization/new", json={"organization_id": "o", "organization_alias": "o"}
                             ).status_code == 200
            os.kill(projector.pid, signal.SIGKILL)
            projector.wait(10)
            assert not projector_running(settings)
            # Every worker knows: no process holds the projector lock.
            assert {http.get("/health/readiness").status_code for _ in range(6)} == {503}
            added = http.post("/organization/member_add", json={
                "organization_id": "o", "member": {"role": "internal_user", "user_id": "late"}})
            assert added.status_code == 200, added.text
            assert int(added.headers[VIEWS_LAG_HEADER]) > 0
            projector = processes.start(["projections", "run"], env, tmp_path / "projector.log")
            processes.wait_until(lambda: http.get("/health/readiness").status_code == 200, timeout=60,
                                 what="readiness after the projector's restart")

            def members() -> list[str]:
                info = http.get("/organization/info", params={"organization_id": "o"})
                return [m["user_id"] for m in info.json()["members"]]

            processes.wait_until(lambda: members() == ["late"], timeout=30, what="the views to catch up")
            again = http.post("/organization/member_add", json={
                "organization_id": "o", "member": {"role": "internal_user", "user_id": "later"}})
            assert again.status_code == 200 and VIEWS_LAG_HEADER not in again.headers, again.headers
    finally:
        processes.stop(projector)
