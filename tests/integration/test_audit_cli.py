"""`orgledger audit ...` against a real SQLite store written through the HTTP API."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from orgledger.adapters.cli.main import main
from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import build_runtime
from tests.conftest import ADMIN, make_settings


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    with TestClient(build_app(runtime=runtime)) as c:
        yield c
    runtime.close()


def cli(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"ORGLEDGER_DATA_DIR": str(data_dir),
                                                     "DATABASE_URL": ""})


def info(client: TestClient, organization_id: str) -> dict[str, Any]:
    response = client.get("/organization/info", params={"organization_id": organization_id}, headers=ADMIN)
    assert response.status_code == 200
    return response.json()


def run_scenario(client: TestClient) -> list[tuple[int, datetime, dict[str, Any]]]:
    """Commands on o1 (and noise on o2); after each, what info answered, the time, o1's version."""
    seen: list[tuple[int, datetime, dict[str, Any]]] = []
    version = 0

    def capture(org_changed: bool) -> None:
        nonlocal version
        version += org_changed
        seen.append((version, datetime.now(UTC), info(client, "o1")))

    client.post("/organization/new", json={"organization_alias": "first", "organization_id": "o1",
                                           "max_budget": 10}, headers=ADMIN)
    capture(True)
    client.post("/organization/member_add", json={"organization_id": "o1", "member": [
        {"user_id": "u1", "role": "internal_user"}, {"user_id": "u2", "role": "org_admin"}]}, headers=ADMIN)
    capture(False)
    client.post("/organization/new", json={"organization_alias": "noise", "organization_id": "o2"},
                headers=ADMIN)
    client.post("/organization/member_add", json={"organization_id": "o2",
                "member": {"user_id": "u1", "role": "internal_user"}}, headers=ADMIN)
    client.patch("/organization/update", json={"organization_id": "o1", "organization_alias": "second",
                 "max_budget": 20, "metadata": {"team": "a"}}, headers=ADMIN)
    capture(True)
    client.patch("/organization/member_update", json={"organization_id": "o1", "user_id": "u1",
                 "role": "internal_user_viewer", "max_budget_in_organization": 5}, headers=ADMIN)
    capture(False)
    client.request("DELETE", "/organization/member_delete", json={"organization_id": "o1",
                   "user_id": "u2"}, headers=ADMIN)
    capture(False)
    client.patch("/organization/update", json={"organization_id": "o1", "models": ["gpt-4o"]},
                 headers=ADMIN)
    capture(True)
    return seen


def jsonl(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line]


def test_log_streams_every_event_in_order(client: TestClient, data_dir: Path) -> None:
    run_scenario(client)
    lines = jsonl(cli(data_dir, "audit", "log", "--format", "jsonl"))
    stored = client.app.state.runtime.ledger.recorder.select_notifications(start=1, limit=1000)
    assert [line["type"] for line in lines] == [n.topic.rsplit(".", 1)[-1] for n in stored]
    assert all(set(line) == {"timestamp", "type", "actor", "payload"} for line in lines)
    assert lines[1] == {"timestamp": lines[1]["timestamp"], "type": "OrgCreated", "actor": "default_user_id",
                        "payload": {"organization_id": "o1", "organization_alias": "first",
                                    "budget_id": lines[0]["payload"]["budget_id"], "models": [],
                                    "metadata": {}, "object_permission": None}}
    assert datetime.fromisoformat(lines[1]["timestamp"]) <= datetime.now(UTC)
    table = cli(data_dir, "audit", "log").output.splitlines()
    assert table[0].split() == ["POSITION", "TIMESTAMP", "TYPE", "ACTOR", "SUBJECT"]
    assert len(table) == len(lines) + 1 and "OrgCreated" in table[2]


def test_log_filters(client: TestClient, data_dir: Path) -> None:
    run_scenario(client)
    everything = jsonl(cli(data_dir, "audit", "log", "--format", "jsonl"))
    o1 = jsonl(cli(data_dir, "audit", "log", "--format", "jsonl", "--organization-id", "o1"))
    # The organization's events, its memberships' and the budgets it uses; nothing of o2.
    assert [e["type"] for e in o1] == [
        "BudgetCreated", "OrgCreated", "MemberAdded", "MemberAdded", "OrgUpdated", "BudgetUpdated",
        "BudgetCreated", "RoleChanged", "MemberBudgetChanged", "MemberRemoved", "OrgUpdated"]
    assert all(e["payload"].get("organization_id") in ("o1", None) for e in o1)
    u1 = jsonl(cli(data_dir, "audit", "log", "--format", "jsonl", "--user-id", "u1"))
    assert [e["type"] for e in u1] == ["UserCreated", "MemberAdded", "MemberAdded", "RoleChanged",
                                       "MemberBudgetChanged"]
    both = jsonl(cli(data_dir, "audit", "log", "--format", "jsonl", "--user-id", "u1",
                     "--organization-id", "o2"))
    assert [e["type"] for e in both] == ["MemberAdded"]
    assert jsonl(cli(data_dir, "audit", "log", "--format", "jsonl", "--changed-by", "nobody")) == []
    assert len(jsonl(cli(data_dir, "audit", "log", "--format", "jsonl", "--changed-by",
                         "default_user_id"))) == len(everything)
    # --since/--until are inclusive.
    t3, t6 = everything[3]["timestamp"], everything[6]["timestamp"]
    window = jsonl(cli(data_dir, "audit", "log", "--format", "jsonl", "--since", t3, "--until", t6))
    assert window == [e for e in everything if t3 <= e["timestamp"] <= t6] and window[0] == everything[3]
    bad = cli(data_dir, "audit", "log", "--since", "last tuesday")
    assert bad.exit_code == 2 and "ISO-8601" in bad.output


def test_state_equals_what_info_answered_then(client: TestClient, data_dir: Path) -> None:
    seen = run_scenario(client)
    for version, moment, answer in seen:
        as_of = cli(data_dir, "audit", "state", "--organization-id", "o1", "--as-of", moment.isoformat())
        assert as_of.exit_code == 0, as_of.output
        assert json.loads(as_of.output) == answer
    # Each version, right after the command that made it.
    last_by_version = {}
    for version, _, answer in seen:
        last_by_version.setdefault(version, answer)
    for version, answer in last_by_version.items():
        by_version = cli(data_dir, "audit", "state", "--organization-id", "o1", "--version", str(version))
        assert json.loads(by_version.output) == answer, version
    assert len(last_by_version) == 3


def test_state_refuses_unknown_and_impossible_moments(client: TestClient, data_dir: Path) -> None:
    run_scenario(client)
    unknown = cli(data_dir, "audit", "state", "--organization-id", "nope", "--version", "1")
    assert unknown.exit_code == 1 and "organization nope is not in the event log" in unknown.output
    early = cli(data_dir, "audit", "state", "--organization-id", "o1", "--as-of", "2001-01-01T00:00:00Z")
    assert early.exit_code == 1 and "did not exist yet" in early.output
    too_far = cli(data_dir, "audit", "state", "--organization-id", "o1", "--version", "9")
    assert too_far.exit_code == 1 and "has versions 1 to 3" in too_far.output
    neither = cli(data_dir, "audit", "state", "--organization-id", "o1")
    assert neither.exit_code != 0
    client.request("DELETE", "/organization/delete", json={"organization_ids": ["o1"]}, headers=ADMIN)
    gone = cli(data_dir, "audit", "state", "--organization-id", "o1", "--version", "4")
    assert gone.exit_code == 1 and "was deleted at" in gone.output


# Export and verify.


@pytest.fixture
def exported(client: TestClient, data_dir: Path, tmp_path: Path) -> Path:
    run_scenario(client)
    out = tmp_path / "audit.jsonl"
    result = cli(data_dir, "audit", "export", "--out", str(out))
    assert result.exit_code == 0 and "exported 16 events" in result.output
    client.app.state.runtime.close()  # the store copies below must be complete files
    return out


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_export_to_dash_writes_the_same_lines_to_stdout(exported: Path, data_dir: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "orgledger"
    done = subprocess.run([str(script), "audit", "export", "--out", "-"], cwd=tmp_path, capture_output=True,
                          timeout=60, env={"ORGLEDGER_DATA_DIR": str(data_dir), "PATH": "", "LANG": "C"})
    assert done.returncode == 0, done.stderr
    # The bytes of the file (UTF-8 whatever the locale); the summary goes to stderr, and no file "-".
    assert done.stdout == exported.read_bytes()
    assert done.stderr == b"exported 16 events to standard output\n"
    assert not (tmp_path / "-").exists()


def test_export_into_a_missing_folder_is_one_line(client: TestClient, data_dir: Path, tmp_path: Path) -> None:
    run_scenario(client)
    out = tmp_path / "no-such-folder" / "audit.jsonl"
    script = Path(sys.executable).parent / "orgledger"
    done = subprocess.run([str(script), "audit", "export", "--out", str(out)], capture_output=True, text=True,
                          timeout=60, env={"ORGLEDGER_DATA_DIR": str(data_dir), "PATH": ""})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"orgledger: {out}: No such file or directory\n"


def test_export_chains_each_line_and_verifies_clean(exported: Path, data_dir: Path) -> None:
    lines = [msgspec.json.decode(line) for line in lines_of(exported)]
    assert lines[0]["format"] == "orgledger-audit-export/1" and lines[0]["head"] == 16
    assert [line["position"] for line in lines[1:]] == list(range(1, 17))
    assert len({line["sha256"] for line in lines}) == 17
    result = cli(data_dir, "audit", "verify", str(exported))
    assert result.exit_code == 0 and "ok: 16 entries" in result.output


def tampered(tmp_path: Path, exported: Path, edit: Any) -> Path:
    lines = lines_of(exported)
    edit(lines)
    path = tmp_path / "tampered.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def edit_payload(lines: list[str]) -> None:
    record = json.loads(lines[5])
    record["payload"]["user_id"] = "mallory"
    lines[5] = json.dumps(record)


def swap(lines: list[str]) -> None:
    lines[5], lines[6] = lines[6], lines[5]


@pytest.mark.parametrize(("edit", "kind"), [
    (edit_payload, "changed"), (lambda lines: lines.pop(5), "removed"), (swap, "reordered"),
])
def test_verify_catches_a_tampered_file(exported: Path, data_dir: Path, tmp_path: Path, edit: Any,
                                        kind: str) -> None:
    result = cli(data_dir, "audit", "verify", str(tampered(tmp_path, exported, edit)))
    assert result.exit_code == 1
    assert result.output.startswith(f"{kind}: ") and "position 5" in result.output
    assert "hash chain breaks" in result.output


def store_copy(data_dir: Path, tmp_path: Path, change: str) -> Path:
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in data_dir.iterdir():
        shutil.copy(f, copy / f.name)
    db = sqlite3.connect(copy / "events.db")
    if change == "changed":
        (state,) = db.execute("SELECT state FROM stored_events WHERE rowid=5").fetchone()
        db.execute("UPDATE stored_events SET state=? WHERE rowid=5",
                   (state.replace(b'"u2"', b'"mallory"'),))
    elif change == "removed":
        db.execute("DELETE FROM stored_events WHERE rowid=5")
    else:
        rows = {r[0]: r[1:] for r in db.execute("SELECT rowid, * FROM stored_events WHERE rowid IN (5, 6)")}
        db.execute("UPDATE stored_events SET originator_id='x' WHERE rowid=5")
        for rowid, other in ((6, rows[5]), (5, rows[6])):
            db.execute("UPDATE stored_events SET originator_id=?, originator_version=?, topic=?, state=?"
                       " WHERE rowid=?", (*other, rowid))
    db.commit()
    db.close()
    return copy


@pytest.mark.parametrize("kind", ["changed", "removed", "reordered"])
def test_verify_catches_a_tampered_store(exported: Path, data_dir: Path, tmp_path: Path, kind: str) -> None:
    copy = store_copy(data_dir, tmp_path, kind)
    result = cli(copy, "audit", "verify", str(exported))
    assert result.exit_code == 1
    assert result.output.startswith(f"{kind}: ") and "position 5" in result.output
    assert "so the store was changed" in result.output
    # The untouched store still matches the same file.
    assert cli(data_dir, "audit", "verify", str(exported)).exit_code == 0


def test_cli_finds_the_store_from_any_working_directory(client: TestClient, data_dir: Path,
                                                        tmp_path: Path) -> None:
    run_scenario(client)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"ORGLEDGER_DATA_DIR": str(data_dir), "PATH": ""}
    script = Path(sys.executable).parent / "orgledger"
    log = subprocess.run([str(script), "audit", "log", "--format", "jsonl"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=60)
    assert log.returncode == 0, log.stderr
    assert len(log.stdout.splitlines()) == 16
    missing = subprocess.run([str(script), "audit", "log"], cwd=elsewhere, capture_output=True,
                             text=True, timeout=60, env={"ORGLEDGER_DATA_DIR": "nowhere", "PATH": ""})
    assert missing.returncode == 2 and "no event store at" in missing.stderr
    assert not (elsewhere / "nowhere").exists()
