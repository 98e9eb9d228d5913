"""A projection that cannot apply an event says so: readiness answers 503 naming it, its position
and the error; metrics show where it is stuck; the log has one line per failure episode; the
views keep everything before the event; and once the event applies, all of it clears."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.http.app import build_app
from orgledger.adapters.projector.postgres_projector import ProjectorService
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.projections.failures import ProjectionError
from tests.conftest import MASTER_KEY, make_settings
from tests.http.test_metrics import scrape, value
from tests.integration.failing import POISON, Tripwire, add_tripwire, append_unreadable_event
from tests.integration.helpers import create, head, views_left_behind


def error_lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno >= logging.ERROR]


def wait_until(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_sqlite_inline_catch_up_reports_a_failing_event_once_and_recovers(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="orgledger")
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    tripwire = add_tripwire(runtime)
    try:
        with TestClient(build_app(runtime=runtime)) as client:
            assert client.get("/health/readiness").status_code == 200
            # Written together, caught up together: one batch, failing on the middle command.
            with views_left_behind(runtime):
                create(runtime, "before")
                poison_at = create(runtime, POISON).position
                create(runtime, "after")
            for _ in range(3):  # every command's catch-up tries again
                with pytest.raises(ProjectionError, match=f"tripwire failed at position {poison_at}"):
                    runtime.sync()
            # Everything before the event reached the views, nothing after it.
            assert set(runtime.projector.positions().values()) == {poison_at - 1}
            with runtime.read() as cur:
                assert runtime.organizations.org(cur, "before") is not None
                assert runtime.organizations.org(cur, "after") is None

            ready = client.get("/health/readiness")
            assert ready.status_code == 503
            body = ready.json()
            assert body["status"] == "unhealthy"
            [stuck] = body["stuck"]
            assert (stuck["projection"], stuck["position"], stuck["attempts"]) == ("tripwire", poison_at, 3)
            assert stuck["error"] == "RuntimeError: tripwire: the poisoned organization"
            assert f"tripwire cannot apply the event at position {poison_at}" in body["error"]
            samples = scrape(client)
            assert value(samples, "orgledger_projection_stuck_position", projection="tripwire") == poison_at
            assert value(samples, "orgledger_projection_failed_attempts", projection="tripwire") == 3
            assert value(samples, "orgledger_projection_stuck_position", projection="organizations") == 0
            # One line for the episode, not one per attempt, and no traceback.
            [line] = error_lines(caplog, "orgledger.projections")
            assert f"tripwire cannot apply the event at position {poison_at}" in line.getMessage()
            assert line.exc_info is None

            tripwire.armed = False  # the defect is fixed
            runtime.sync()
            assert set(runtime.projector.positions().values()) == {head(runtime)}
            assert client.get("/health/readiness").status_code == 200
            samples = scrape(client)
            assert value(samples, "orgledger_projection_stuck_position", projection="tripwire") == 0
            assert [r.getMessage() for r in caplog.records if "after 3 failed attempt" in r.getMessage()]
            assert len(error_lines(caplog, "orgledger.projections")) == 1
    finally:
        runtime.close()


def test_an_event_no_projection_can_read_stops_them_all_at_its_position(tmp_path: Path) -> None:
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    try:
        with TestClient(build_app(runtime=runtime)) as client:
            create(runtime, "before")
            unreadable = append_unreadable_event(runtime)
            with pytest.raises(ProjectionError):
                runtime.sync()
            stuck = client.get("/health/readiness").json()["stuck"]
            assert {(s["projection"], s["position"]) for s in stuck} == {
                (name, unreadable) for name in ("organizations", "keys", "audit")}
            assert all(s["error"].startswith("TopicError") for s in stuck), stuck
    finally:
        runtime.close()


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Settings]:
    from tests.postgres import fresh_schema, postgres_settings

    with fresh_schema() as schema:
        yield postgres_settings(schema, tmp_path, MASTER_KEY)


@pytest.mark.postgres
def test_the_postgres_projector_reports_a_failing_event_and_recovers(
        bare: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="orgledger")
    tripwire = Tripwire()
    service = ProjectorService(bare, extra_projections=[tripwire], poll=0.05).start()
    runtime: Runtime = build_runtime(bare)
    runtime.projector.projections.append(Tripwire())  # the API side knows the same views
    try:
        with TestClient(build_app(runtime=runtime)) as client:
            assert service.active.wait(20)
            with views_left_behind(runtime):
                create(runtime, "before")
                poison_at = create(runtime, POISON).position
                create(runtime, "after")
            wait_until(lambda: client.get("/health/readiness").status_code == 503)
            assert service.state == "stuck"
            wait_until(lambda: client.get("/health/readiness").json()["stuck"][0]["attempts"] >= 3)
            body = client.get("/health/readiness").json()
            assert [(s["projection"], s["position"]) for s in body["stuck"]] == [("tripwire", poison_at)]
            assert set(body["projections"].values()) == {poison_at - 1}
            assert value(scrape(client), "orgledger_projection_stuck_position",
                         projection="tripwire") == poison_at
            assert len(error_lines(caplog, "orgledger.projections")) == 1
            assert not error_lines(caplog, "orgledger.projector")  # it did not lose the database

            tripwire.armed = False
            wait_until(lambda: client.get("/health/readiness").status_code == 200)
            assert set(runtime.projector.positions().values()) == {head(runtime)}
            assert service.state == "active"
    finally:
        runtime.close()
        service.stop()
