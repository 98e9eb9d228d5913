"""`serve --workers 2` on SQLite or PostgreSQL whose supervising process is killed: its workers must not
live on holding the port (serving from a supervisor-less, projector-less cluster), and a new
`serve` on the same port must start and answer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from orgledger.adapters.supervision import CLOSE_SECONDS, GRACE_ENV
from tests.conftest import ADMIN
from tests.e2e import orgledger_processes as processes
from tests.e2e.server import running_server, server_env, stop
from tests.e2e.test_scale_out import projector_holds_its_lock, store_settings

pytestmark = pytest.mark.e2e
# Workers notice at once (a pipe closes); this leaves room for a loaded machine.
ORPHAN_SECONDS = 5.0


def children(pid: int) -> set[int]:
    """Live processes whose parent is `pid` (Linux /proc; zombies count as gone)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_workers_exit_with_a_killed_supervisor_and_a_new_serve_takes_the_port(
        backend: str, tmp_path: Path) -> None:
    with store_settings(backend, tmp_path) as settings:
        env = processes.settings_env(settings)
        with running_server(env, ["--workers", "2"], startup_timeout=processes.STARTUP_TIMEOUT) as first:
            port = urlsplit(first.url).port
            assert port is not None
            workers = children(first.process.pid)
            assert len(workers) >= 2, workers  # two workers (+ multiprocessing's resource tracker)
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(10)
            killed_at = time.monotonic()
            try:
                processes.wait_until(lambda: not any(alive(pid) for pid in workers), ORPHAN_SECONDS,
                                     what=f"the workers {sorted(workers)} to exit after their supervisor")
                gone_after = time.monotonic() - killed_at
                assert not listening(port), "an orphan still holds the port"
            finally:
                for pid in filter(alive, workers):  # this test's own orphans, on failure
                    os.kill(pid, signal.SIGKILL)

        with running_server(env, ["--workers", "2"], port=port,
                            startup_timeout=processes.STARTUP_TIMEOUT) as second:
            with httpx.Client(base_url=second.url, headers=ADMIN, timeout=60) as http:
                assert http.get("/health/readiness").status_code == 200
                # A command answers only once the new supervisor's projector applied it.
                created = http.post("/organization/new", json={"organization_alias": "after"})
                assert created.status_code == 200, created.text
            # The killed supervisor's projector lock was released with it, and taken again.
            assert projector_holds_its_lock(settings)
            assert stop(second.process) == 0, second.log.read_text()
    assert gone_after < ORPHAN_SECONDS


def test_a_worker_that_ignores_sigterm_still_exits_after_the_grace(tmp_path: Path) -> None:
    """A stuck worker never acts on the SIGTERM its watcher sends: it is ended after the grace."""
    with subprocess.Popen([sys.executable, "-m", "tests.e2e.stuck_worker"],
                          env=server_env({GRACE_ENV: "0"}), cwd=processes.ROOT,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as supervisor:
        assert supervisor.stdout is not None
        worker = int(supervisor.stdout.readline())
        supervisor.kill()
    try:
        killed_at = time.monotonic()
        processes.wait_until(lambda: not alive(worker), CLOSE_SECONDS + ORPHAN_SECONDS,
                             what="the stuck worker to exit")
        assert time.monotonic() - killed_at >= CLOSE_SECONDS - 0.5  # it was given its grace
    finally:
        if alive(worker):
            os.kill(worker, signal.SIGKILL)
