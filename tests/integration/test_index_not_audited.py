"""The email index is bookkeeping for commands: the audit trail (the audit view and `audit log`)
leaves it out, an export (a copy of the whole log) keeps it, and a rebuilt audit view equals
the live one."""

from __future__ import annotations

from pathlib import Path

import msgspec
from click.testing import CliRunner, Result

from orgledger.adapters.cli.main import main
from orgledger.adapters.runtime import build_runtime
from orgledger.application.commands import CreateUser
from orgledger.projections import rebuild
from orgledger.projections.audit import AuditFilter, AuditView
from tests.conftest import make_settings

from .helpers import ADMIN, add, create, head


def cli(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"ORGLEDGER_DATA_DIR": str(data_dir), "DATABASE_URL": ""})


def test_index_events_are_in_the_log_and_export_but_not_in_the_audit_trail(tmp_path: Path) -> None:
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    try:
        create(runtime, "org-1")
        add(runtime, "org-1", ("a@example.com", "internal_user"), by_email=True)
        runtime.ledger.create_user(CreateUser(actor=ADMIN, user_id="u-2", user_email="a@example.com",
                                              auto_create_key=False))
        events = head(runtime)
        runtime.sync()
        with runtime.read() as cur:
            page = runtime.projection("audit").page(cur, AuditFilter(), 1, 100)
        # Two of the log's events are the index's (EmailIndexed, then UserIndexed).
        assert page["total"] == events - 2
        assert {e["event_type"] for e in page["audit_logs"]} == {
            "BudgetCreated", "OrgCreated", "UserCreated", "MemberAdded"}
        live = runtime.projection("audit")
        new, _ = rebuild.prepare(runtime.ledger, runtime.store, AuditView, batch_size=2)
        with runtime.read() as cur:
            assert new.position(cur) == live.position(cur) == events
            assert new.page(cur, AuditFilter(), 1, 100) == live.page(cur, AuditFilter(), 1, 100)
    finally:
        runtime.close()
    data_dir = tmp_path / "data"
    logged = cli(data_dir, "audit", "log", "--format", "jsonl")
    assert logged.exit_code == 0, logged.output
    assert [msgspec.json.decode(line)["type"] for line in logged.output.splitlines()] == [
        "BudgetCreated", "OrgCreated", "UserCreated", "MemberAdded", "UserCreated"]
    exported = cli(data_dir, "audit", "export", "--out", str(tmp_path / "audit.jsonl"))
    assert exported.exit_code == 0, exported.output
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()[1:]
    assert [msgspec.json.decode(line)["type"] for line in lines] == [
        "BudgetCreated", "OrgCreated", "UserCreated", "EmailIndexed", "MemberAdded", "UserCreated",
        "UserIndexed"]
    assert cli(data_dir, "audit", "verify", str(tmp_path / "audit.jsonl")).exit_code == 0
