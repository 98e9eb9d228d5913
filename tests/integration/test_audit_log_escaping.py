"""`orgledger audit log`'s table shows control characters escaped, so a value stored before the
edge refused them (or written past it) cannot forge an entry or drive the terminal."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from orgledger.adapters.cli.main import main
from orgledger.adapters.runtime import build_runtime
from orgledger.application.commands import AddMembers, CreateOrg, NewMember
from orgledger.domain.values import Actor
from tests.conftest import make_settings

FORGED = "eve\\\n       9  2026-01-01T00:00:00.000000Z  OrgDeleted            default_user_id       organization_id=acme"


def test_control_characters_in_the_table_are_escaped(tmp_path: Path) -> None:
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    try:
        ledger = runtime.ledger
        org_id = ledger.create_org(CreateOrg(actor=Actor(user_id="ann"), organization_alias="acme",
                                             organization_id="acme")).organization_ids[0]
        ledger.add_members(AddMembers(actor=Actor(user_id="mallory\x1b[2K\r\x85"), organization_id=org_id,
                                      members=[NewMember(role="internal_user", user_id=FORGED)]))
        events = ledger.recorder.max_notification_id()
    finally:
        runtime.close()
    result = CliRunner().invoke(main, ["audit", "log"], env={"ORGLEDGER_DATA_DIR": str(tmp_path / "data"),
                                                             "DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 + events, result.output  # the header, then one line per event
    assert not any(c in result.output for c in "\x1b\r\x85")
    joined = [line for line in lines if "MemberAdded" in line]
    assert len(joined) == 1
    assert r"user_id=eve\\\n       9  2026-01-01T00:00:00.000000Z  OrgDeleted" in joined[0]
    assert r"mallory\x1b[2K\r\x85" in joined[0]
    # The id's own backslash is doubled, so an escape in the output always stands for one character.
