"""The SQLite projector of `serve --workers N`: one per data folder, behind a lock that a killed
holder releases; the other processes' commands wait for it, and readiness says when none runs."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orgledger.adapters.persistence.file_lock import ExclusiveFileLock, is_held
from orgledger.adapters.http.health import readiness_for
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.adapters.projector.sqlite_projector import SQLiteProjectorService
from orgledger.adapters.projector.sqlite_workers import ELSEWHERE_ENV, lock_path, projector_running
from orgledger.application.commands import AddMembers, CreateOrg, NewMember
from orgledger.domain.values import Actor
from orgledger.projections.failures import ViewsBehind
from orgledger.projections.organizations.view import OrganizationsView
from orgledger.projections.projector import Projector
from tests.conftest import make_settings

ADMIN = Actor(user_id="admin")
HOLDER = """
import sys, time
from pathlib import Path
from orgledger.adapters.persistence.file_lock import ExclusiveFileLock
assert ExclusiveFileLock(Path(sys.argv[1])).try_acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings("sqlite", tmp_path)


@pytest.fixture
def worker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A runtime as a worker of `serve --workers 2` builds it: the views are kept elsewhere."""
    monkeypatch.setenv(ELSEWHERE_ENV, "1")
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def create(runtime: Runtime, org_id: str) -> int:
    return runtime.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias=org_id,
                                               organization_id=org_id)).position


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "projector.lock"
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE) as holder:
        _hold_then_kill(holder, path)


def _hold_then_kill(holder: subprocess.Popen[bytes], path: Path) -> None:
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        lock = ExclusiveFileLock(path)
        assert is_held(path) and not lock.try_acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        # No cleanup ran in the holder: the kernel dropped the lock with its files.
        assert not is_held(path)
        assert lock.try_acquire() and is_held(path)
        lock.release()
        assert not is_held(path)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_two_opens_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    first, second = ExclusiveFileLock(tmp_path / "l"), ExclusiveFileLock(tmp_path / "l")
    assert first.try_acquire() and not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_commands_wait_for_the_projector_and_a_second_one_waits_then_takes_over(
        settings: Settings, worker: Runtime) -> None:
    assert not worker.inline_projector
    # Without a projector the views never catch up.
    with pytest.raises(ViewsBehind):
        worker.projector.wait_for(create(worker, "o1"), timeout=0.3)
    first = SQLiteProjectorService(settings, lock_retry=0.05).start()
    second = SQLiteProjectorService(settings, lock_retry=0.05)
    try:
        assert first.active.wait(20)
        second.start()
        worker.projector.wait_for(create(worker, "o2"), timeout=20)
        time.sleep(0.2)
        assert second.state == "waiting" and not second.active.is_set()
        first.stop()
        assert second.active.wait(20)
        worker.projector.wait_for(create(worker, "o3"), timeout=20)
        with worker.read() as cur:
            assert [o["organization_id"] for o in worker.organizations.orgs(cur)] == ["o1", "o2", "o3"]
    finally:
        first.stop()
        second.stop()
    assert not projector_running(settings)


def test_the_waiters_are_woken_as_the_projector_applies_their_writes(
        settings: Settings, worker: Runtime) -> None:
    projector = SQLiteProjectorService(settings).start()
    try:
        assert projector.active.wait(20)
        started = time.monotonic()
        for n in range(30):
            worker.projector.wait_for(create(worker, f"o{n}"), timeout=20)
        assert time.monotonic() - started < 15
    finally:
        projector.stop()
    head = worker.ledger.recorder.max_notification_id()
    assert set(worker.projector.positions().values()) == {head}
    with worker.read() as cur:
        assert len(worker.organizations.orgs(cur)) == 30


def test_readiness_is_503_while_no_process_holds_the_projector_lock(
        settings: Settings, worker: Runtime) -> None:
    readiness = readiness_for(worker)
    status, body = asyncio.run(readiness.check())
    assert status == 503 and lock_path(settings).name in body["error"]
    projector = SQLiteProjectorService(settings).start()
    try:
        assert projector.active.wait(20)
        status, body = asyncio.run(readiness.check())
        assert status == 200, body
    finally:
        projector.stop()
        readiness.close()


def test_a_projector_beside_a_serve_that_keeps_its_own_views_applies_each_event_once(
        settings: Settings) -> None:
    """`serve --workers 1` on a folder another `serve --workers 2` also serves: two catch-ups that
    overlap, each batch reading the positions under views.db's write lock."""
    inline = build_runtime(settings)
    projector = SQLiteProjectorService(settings).start()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                org_id = f"o{n}-{i}"
                inline.settle(create(inline, org_id))
                added = inline.ledger.add_members(AddMembers(
                    actor=ADMIN, organization_id=org_id,
                    members=[NewMember(role="internal_user", user_id=f"u{n}-{i}-{j}") for j in range(3)]))
                inline.settle(added.position)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    try:
        assert projector.active.wait(20)
        threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        inline.projector.wait_for(inline.ledger.recorder.max_notification_id() or 0, timeout=20)
    finally:
        projector.stop()
    try:
        fresh = OrganizationsView(prefix="fresh_")
        rebuild = Projector(inline.ledger, inline.store, [fresh])
        rebuild.create_tables()
        rebuild.catch_up()
        assert rows(inline, inline.organizations) == rows(inline, fresh)
        assert len(rows(inline, fresh)["orgs"]) == 45
    finally:
        inline.close()


def rows(runtime: Runtime, view: OrganizationsView) -> dict[str, list[dict[str, object]]]:
    with runtime.read() as cur:
        return {name: cur.execute(f"SELECT * FROM {table} ORDER BY 1, 2").all() for name, table in view.t.items()}
