"""`orgledger projections status|rebuild` on a real SQLite store."""

from __future__ import annotations

import gc
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from orgledger.adapters.cli.main import main
from orgledger.adapters.runtime import build_runtime, projection_classes
from orgledger.application.commands import AddMembers, CreateOrg, NewMember
from orgledger.domain.values import Actor
from orgledger.projections import rebuild as ops
from orgledger.projections.audit import AuditView
from orgledger.projections.rebuild import PREFIX
from tests.conftest import make_settings
from tests.integration.helpers import views_left_behind

NAMES = [cls.name for cls in projection_classes()]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    actor = Actor(user_id="admin")
    for i in range(3):
        runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias=f"o{i}", organization_id=f"o{i}"))
        runtime.ledger.add_members(AddMembers(actor=actor, organization_id=f"o{i}",
                                              members=[NewMember(role="internal_user", user_id="u")]))
    runtime.sync()
    # One more event the views have not seen yet (as if written by another process).
    with views_left_behind(runtime):
        runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias="late", organization_id="late"))
    runtime.close()
    return tmp_path / "data"


def cli(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"ORGLEDGER_DATA_DIR": str(data_dir), "DATABASE_URL": ""})


def tables(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(data_dir / "views.db")
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    rows = {n: sorted(db.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}
    db.close()
    return rows


def test_status_shows_position_head_and_lag(data_dir: Path) -> None:
    result = cli(data_dir, "projections", "status")
    assert result.exit_code == 0, result.output
    assert [line.split() for line in result.output.splitlines()] == [
        ["name", "position", "head", "lag"], *([name, "10", "12", "2"] for name in NAMES)]


def test_rebuild_one_then_all(data_dir: Path) -> None:
    one = cli(data_dir, "projections", "rebuild", "audit", "--batch-size", "4")
    assert one.exit_code == 0, one.output
    assert re.fullmatch(r"rebuilt audit: 12 events, \d+\.\d\d seconds, \d+ events/s\n", one.output)
    status = [line.split() for line in cli(data_dir, "projections", "status").output.splitlines()[1:]]
    assert status == [[name, "12", "12", "0"] if name == "audit" else [name, "10", "12", "2"]
                      for name in NAMES]
    everything = cli(data_dir, "projections", "rebuild", "--all")
    assert everything.exit_code == 0
    # One pass over the log rebuilds them all, so there is one summary for all of them.
    assert re.fullmatch(rf"rebuilt {', '.join(NAMES)}: 12 events, \d+\.\d\d seconds, \d+ events/s\n",
                        everything.output)
    after = tables(data_dir)
    assert not [name for name in after if name.startswith(PREFIX)]
    assert ("late",) in [row[:1] for row in after["orgs"]]
    # A second rebuild finds nothing left over and changes nothing.
    assert cli(data_dir, "projections", "rebuild", "--all").exit_code == 0
    assert tables(data_dir) == after


def test_rebuild_builds_views_that_were_never_opened(data_dir: Path) -> None:
    # The views file is gone (deleted to start over): the rebuild creates it from the log.
    (data_dir / "views.db").unlink()
    assert cli(data_dir, "projections", "rebuild", "--all").exit_code == 0
    assert ("late",) in [row[:1] for row in tables(data_dir)["orgs"]]


def test_rebuild_needs_one_name_or_all(data_dir: Path) -> None:
    assert cli(data_dir, "projections", "rebuild").exit_code == 2
    assert cli(data_dir, "projections", "rebuild", "audit", "--all").exit_code == 2
    unknown = cli(data_dir, "projections", "rebuild", "nope")
    assert unknown.exit_code == 2 and "nope" in unknown.output


def test_rebuild_all_decodes_each_event_once(data_dir: Path) -> None:
    runtime = build_runtime(make_settings("sqlite", data_dir.parent), catch_up=False)
    decoded: list[int] = []
    to_domain_event = runtime.ledger.mapper.to_domain_event

    def counting(notification: Any) -> Any:
        decoded.append(notification.id)
        return to_domain_event(notification)

    runtime.ledger.mapper.to_domain_event = counting  # type: ignore[method-assign]
    try:
        done = ops.rebuild_all(runtime.ledger, runtime.store, projection_classes(), batch_size=5)
        assert gc.isenabled()  # the rebuild turns the cycle collector off for its load only
        assert sorted(decoded) == list(range(1, 13))
        assert done.events == 12
        with runtime.read() as cur:
            assert [cls().position(cur) for cls in projection_classes()] == [12] * len(NAMES)
            assert runtime.organizations.org(cur, "late") is not None
    finally:
        runtime.close()


def indexes(data_dir: Path) -> list[str]:
    db = sqlite3.connect(data_dir / "views.db")
    names = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL ORDER BY name")]
    db.close()
    return names


def test_bulk_load_defers_indexes_no_handler_reads_and_rebuild_restores_them(data_dir: Path) -> None:
    before = indexes(data_dir)
    assert "audit_log_id" in before and "audit_log_object" in before
    store = build_runtime(make_settings("sqlite", data_dir.parent), catch_up=False)
    try:
        with store.store.transaction() as cur:
            AuditView(prefix="bulk_").create_tables(cur, bulk_load=True)
        # Only the index _link_budget reads through exists during the load.
        assert [n for n in indexes(data_dir) if n.startswith("bulk_")] == ["bulk_audit_log_object"]
        with store.store.transaction() as cur:
            AuditView(prefix="bulk_").drop_tables(cur)
    finally:
        store.close()
    assert cli(data_dir, "projections", "rebuild", "--all").exit_code == 0
    assert indexes(data_dir) == before
