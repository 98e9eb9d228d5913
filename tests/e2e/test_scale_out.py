"""Scale-out on SQLite and PostgreSQL: two serve workers and one projector process, four concurrent
clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from eventsourcing.utils import get_topic

from orgledger.adapters.persistence import postgres
from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.settings import Settings
from orgledger.adapters.projector.sqlite_workers import projector_running
from orgledger.domain.membership import Membership
from tests.conftest import ADMIN, MASTER_KEY, make_settings
from tests.e2e import orgledger_processes as processes
from tests.e2e.server import running_server
from tests.postgres import fresh_schema, postgres_settings

pytestmark = pytest.mark.e2e
CLIENTS, MEMBERS = 4, 200


@contextmanager
def store_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    if backend == "sqlite":
        yield make_settings("sqlite", tmp_path)
        return
    with fresh_schema() as schema:
        yield postgres_settings(schema, tmp_path, MASTER_KEY)


def projector_holds_its_lock(settings: Settings) -> bool:
    if settings.backend == "sqlite":
        return projector_running(settings)
    with postgres.connect(settings) as conn:
        return postgres.projector_pid(conn, settings) is not None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    """`serve --workers 2 --no-projector` plus `projections run`, on a fresh store."""
    with store_settings(request.param, tmp_path) as settings:
        env = processes.settings_env(settings)
        projector = processes.start(["projections", "run"], env, tmp_path / "projector.log")
        try:
            with running_server(env, ["--workers", "2", "--no-projector"],
                                startup_timeout=processes.STARTUP_TIMEOUT) as server:
                processes.wait_until(lambda: projector_holds_its_lock(settings),
                                     what="the projector to take its lock")
                yield settings, server.url
        finally:
            processes.stop(projector)


def test_four_clients_add_200_members_through_two_workers(cluster: tuple[Settings, str]) -> None:
    settings, base = cluster
    with httpx.Client(base_url=base, headers=ADMIN, timeout=60) as http:
        org_id = http.post("/organization/new", json={"organization_alias": "crowd"}).json()[
            "organization_id"]

    def client(n: int) -> list[str]:
        # No keep-alive: every request is a new connection, which either worker may accept.
        unseen = []
        with httpx.Client(base_url=base, headers=ADMIN, timeout=60,
                          limits=httpx.Limits(max_keepalive_connections=0)) as http:
            for i in range(n, MEMBERS, CLIENTS):
                user_id = f"user-{i:03d}"
                added = http.post("/organization/member_add", json={
                    "organization_id": org_id, "member": {"role": "internal_user", "user_id": user_id}})
                assert added.status_code == 200, added.text
                # Read-your-writes: the next request, whichever worker takes it, sees the member.
                info = http.get("/organization/info", params={"organization_id": org_id})
                if user_id not in {m["user_id"] for m in info.json()["members"]}:
                    unseen.append(user_id)
        return unseen

    with ThreadPoolExecutor(CLIENTS) as pool:
        unseen = [u for result in pool.map(client, range(CLIENTS)) for u in result]
    assert unseen == []
    info = httpx.get(f"{base}/organization/info", headers=ADMIN, params={"organization_id": org_id})
    assert sorted(m["user_id"] for m in info.json()["members"]) == [
        f"user-{i:03d}" for i in range(MEMBERS)]
    # The log holds exactly one MemberAdded per member: no retry wrote one twice.
    runtime = build_runtime(settings)
    try:
        added = runtime.ledger.recorder.select_notifications(
            start=None, limit=10 * MEMBERS, topics=[get_topic(Membership.MemberAdded)])
    finally:
        runtime.close()
    assert len(added) == MEMBERS
