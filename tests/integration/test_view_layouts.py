"""Views that an older orgledger created with another table layout are rebuilt from the log when
the new one starts, and `orgledger check` says so before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orgledger.adapters.cli.check import run_checks
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.projections.store import Cursor
from tests.conftest import unprojected_settings
from tests.integration.helpers import add, create


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings with no projector running (the test catches up by hand)."""
    with unprojected_settings(request.param, tmp_path) as settings:
        yield settings


def catch_up(runtime: Runtime) -> None:
    runtime.projector.catch_up()


def column_names(cur: Cursor, table: str) -> list[str]:
    if cur.postgres:
        rows = cur.execute("SELECT column_name AS name FROM information_schema.columns WHERE"
                           " table_schema = current_schema() AND table_name=? ORDER BY ordinal_position",
                           (table,)).all()
    else:
        rows = cur.execute("SELECT name FROM pragma_table_info(?)", (table,)).all()
    return [r["name"] for r in rows]


def to_layout_1(cur: Cursor, runtime: Runtime) -> None:
    """What the views looked like before layouts were recorded: the same tables without the
    digest columns (ids keyed by their text), and no projection_layouts table."""
    for projection in runtime.projector.projections:
        for table in projection.t.values():
            columns = [c for c in column_names(cur, table) if not c.endswith("_key")]
            cur.execute(f"CREATE TABLE old_{table} AS SELECT {', '.join(columns)} FROM {table}")
            cur.execute(f"DROP TABLE {table}")
            cur.execute(f"ALTER TABLE old_{table} RENAME TO {table}")
    cur.execute("DROP TABLE projection_layouts")


def test_views_of_an_older_layout_are_rebuilt_at_start(bare: Settings) -> None:
    runtime = build_runtime(bare)
    try:
        create(runtime, "acme")
        add(runtime, "acme", ("alice", "org_admin"), ("bob", "internal_user"))
        catch_up(runtime)
        with runtime.store.transaction() as cur:
            to_layout_1(cur, runtime)
    finally:
        runtime.close()

    findings = {f.check: f for f in run_checks(bare)}
    assert not findings["projection organizations"].ok
    assert "older layout" in findings["projection organizations"].detail

    runtime = build_runtime(bare)
    try:
        with runtime.read() as cur:
            org = runtime.organizations.org(cur, "acme")
            assert org is not None and [m["user_id"] for m in org["members"]] == ["alice", "bob"]
            assert runtime.keys.keys_of_user(cur, "alice") == []
        # And the rebuilt views follow the log as before.
        add(runtime, "acme", ("carol", "internal_user"))
        catch_up(runtime)
        with runtime.read() as cur:
            assert runtime.organizations.member_ids(cur, "acme") == ["alice", "bob", "carol"]
            assert runtime.projection("audit").page(cur, _by("acme"), 1, 10)["total"] == 1
    finally:
        runtime.close()
    assert all(f.ok for f in run_checks(bare) if f.check.startswith("projection"))


def _by(object_id: str) -> object:
    from orgledger.projections.audit import AuditFilter

    return AuditFilter(object_id=object_id)
