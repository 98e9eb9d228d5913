"""`orgledger projections rebuild` on a log with an event a projection cannot apply: it fails with
one line naming the projection, the position and the cause, leaves the live views as they were
and no rebuild_* table behind, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from orgledger.adapters import runtime as runtime_module
from orgledger.adapters.cli.main import main
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.projections.rebuild import PREFIX
from tests.conftest import unprojected_settings
from tests.integration.failing import POISON, Tripwire, append_unreadable_event
from tests.integration.helpers import add, create


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    with unprojected_settings(request.param, tmp_path) as settings:
        yield settings


def rebuild_all(settings: Settings) -> Result:
    env = {"ORGLEDGER_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url or "",
           "ORGLEDGER_PG_SCHEMA": settings.pg_schema}
    return CliRunner().invoke(main, ["projections", "rebuild", "--all", "--batch-size", "3"], env=env)


def view_tables(runtime: Runtime) -> dict[str, list[Any]]:
    """Every table of the views' database with its rows."""
    with runtime.read() as cur:
        if cur.postgres:
            names = [r["name"] for r in cur.execute(
                "SELECT table_name AS name FROM information_schema.tables"
                " WHERE table_schema = current_schema() AND table_name NOT LIKE 'orgledger_events%'"
                " ORDER BY 1").all()]
        else:
            names = [r["name"] for r in cur.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all()]
        return {n: sorted((tuple(r.values()) for r in cur.execute(f"SELECT * FROM {n}").all()), key=repr)
                for n in names}


def written(settings: Settings) -> Runtime:
    runtime = build_runtime(settings)
    create(runtime, "o1")
    add(runtime, "o1", ("alice", "org_admin"))
    create(runtime, POISON)
    create(runtime, "o2")
    runtime.projector.catch_up()
    return runtime


def assert_failed_cleanly(result: Result, runtime: Runtime, before: dict[str, list[Any]], line: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"orgledger: rebuild failed, the live views are unchanged: {line}"]
    after = view_tables(runtime)
    assert not [name for name in after if name.startswith(PREFIX)]
    assert after == before


def test_an_unreadable_event_fails_the_rebuild_in_one_line(settings: Settings) -> None:
    runtime = written(settings)
    try:
        position = append_unreadable_event(runtime)
        before = view_tables(runtime)
        result = rebuild_all(settings)
        assert_failed_cleanly(result, runtime, before,
                              f"no projection can read the event at position {position}: TopicError: "
                              + result.stderr.split("TopicError: ", 1)[-1].strip())
        assert "orgledger.gone" in result.stderr
    finally:
        runtime.close()


def test_a_projection_that_fails_on_an_event_fails_the_rebuild_in_one_line(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = written(settings)
    try:
        position = next(n.id for n in runtime.ledger.recorder.select_notifications(start=None, limit=100)
                        if n.topic.endswith("OrgCreated") and POISON.encode() in n.state)
        before = view_tables(runtime)
        # The next release adds a view with a defect: it fails on that event.
        monkeypatch.setattr(runtime_module, "EXTRA_PROJECTIONS", (*runtime_module.EXTRA_PROJECTIONS, Tripwire))
        assert_failed_cleanly(rebuild_all(settings), runtime, before,
                              f"projection tripwire cannot apply the event at position {position}: "
                              "RuntimeError: tripwire: the poisoned organization")
    finally:
        runtime.close()

