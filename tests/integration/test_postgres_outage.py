"""PostgreSQL unreachable, through a TCP forwarder the test cuts and restores: readiness answers
503 within its 2 s budget and 200 again once the database is back; the projector logs one line
when it loses the database and one when it is back, not a traceback per retry."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.http.app import build_app
from orgledger.adapters.projector.postgres_projector import ProjectorService
from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.settings import Settings
from tests.conftest import MASTER_KEY
from tests.integration.helpers import create, head
from tests.postgres import PG_URL, fresh_schema, postgres_settings
from tests.tcp_forwarder import TcpForwarder

pytestmark = pytest.mark.postgres
BUDGET = 2.0
SLACK = 0.5  # for a loaded two-core machine


@pytest.fixture
def direct(tmp_path: Path) -> Iterator[Settings]:
    with fresh_schema() as schema:
        yield postgres_settings(schema, tmp_path, MASTER_KEY)


@pytest.fixture
def forwarder() -> Iterator[TcpForwarder]:
    target = urlsplit(PG_URL)
    with TcpForwarder(target.hostname or "127.0.0.1", target.port or 5432) as f:
        yield f


@pytest.fixture
def through(direct: Settings, forwarder: TcpForwarder) -> Settings:
    """The same schema, reached through the forwarder."""
    return replace(direct, database_url=forwarder.url(PG_URL))


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def timed_readiness(client: TestClient) -> tuple[int, float]:
    started = time.monotonic()
    status = client.get("/health/readiness").status_code
    return status, time.monotonic() - started


def readiness_threads() -> int:
    return sum(t.name == "orgledger-readiness" and t.is_alive() for t in threading.enumerate())


@pytest.mark.parametrize("cut", [{"mode": "refuse"}, {"mode": "blackhole"},
                                 {"mode": "blackhole", "keep_open": True}],
                         ids=["refused", "blackholed", "frozen"])
def test_readiness_is_503_within_2s_while_postgres_is_unreachable(
        through: Settings, forwarder: TcpForwarder, cut: dict[str, object]) -> None:
    projector = ProjectorService(through, poll=0.1).start()
    runtime = build_runtime(through)
    try:
        with TestClient(build_app(runtime=runtime)) as client:
            wait_until(lambda: client.get("/health/readiness").status_code == 200)
            forwarder.cut(**cut)  # type: ignore[arg-type]
            for _ in range(4):
                status, seconds = timed_readiness(client)
                assert status == 503 and seconds < BUDGET + SLACK, (status, seconds)
                # Probes share one question to the store: a hanging store holds one thread.
                assert readiness_threads() <= 1
            forwarder.restore()
            wait_until(lambda: client.get("/health/readiness").status_code == 200)
    finally:
        runtime.close()
        projector.stop()


def test_readiness_is_503_when_no_projector_makes_progress(direct: Settings) -> None:
    runtime = build_runtime(direct)
    try:
        app = build_app(runtime=runtime)
        with TestClient(app) as client:
            app.state.readiness.stall_seconds = 0.5
            assert client.get("/health/readiness").status_code == 200
            create(runtime, "o1")  # no projector runs: the views stay behind
            wait_until(lambda: client.get("/health/readiness").status_code == 503, timeout=10)
            body = client.get("/health/readiness").json()
            assert body["stalled"]["behind"] == head(runtime) and "is a projector running" in body["error"]
            projector = ProjectorService(direct, poll=0.1).start()
            try:
                wait_until(lambda: client.get("/health/readiness").status_code == 200)
            finally:
                projector.stop()
    finally:
        runtime.close()


def test_the_projector_logs_one_line_when_it_loses_postgres_and_one_when_it_is_back(
        direct: Settings, through: Settings, forwarder: TcpForwarder,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="orgledger")
    writer = build_runtime(direct)  # writes go on while the projector is cut off
    projector = ProjectorService(through, poll=0.1).start()
    try:
        assert projector.active.wait(30)
        writer.projector.wait_for(create(writer, "o1").position)
        forwarder.cut("refuse")
        create(writer, "o2")
        # A cut in the middle of a catch-up is noticed once the store's retries give up (each
        # waits for the pool's 5 s); otherwise at once.
        deadline = time.monotonic() + 60
        while projector.state != "reconnecting":
            assert time.monotonic() < deadline, f"still {projector.state} 60 s after the cut"
            time.sleep(0.05)
        time.sleep(4)  # tens of attempts without a backoff; about six with it
        assert projector.state == "reconnecting"
        forwarder.restore()
        writer.projector.wait_for(head(writer), timeout=30)
    finally:
        projector.stop()
        writer.close()
    lines = [r for r in caplog.records if r.name.startswith("orgledger.projector")]
    lost = [r.getMessage() for r in lines if "lost the database" in r.getMessage()]
    back = [r.getMessage() for r in lines if "the database is back" in r.getMessage()]
    assert len(lost) == 1 and len(back) == 1, [r.getMessage() for r in lines]
    assert "Connection refused" in lost[0] or "connection" in lost[0].lower()
    assert not [r for r in lines if r.exc_info], "no tracebacks"
    assert len(lines) <= 4, [r.getMessage() for r in lines]  # active, lost, back, active
