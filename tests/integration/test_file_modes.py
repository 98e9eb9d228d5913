"""Data files are readable by their owner only (0600) and the folders orgledger makes for them
0700: the event log holds every email and id, and the views and metrics as much."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from orgledger.adapters.cli.main import main
from orgledger.adapters.http.metrics import prepare_multiprocess_dir
from orgledger.adapters.runtime import build_runtime
from orgledger.application.commands import CreateOrg
from orgledger.domain.values import Actor
from tests.conftest import make_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> object:
    # What many hosts run with: without care, every file would be world-readable.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_sqlite_files_are_0600_and_the_data_folder_0700(tmp_path: Path) -> None:
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    data = tmp_path / "data"
    try:
        runtime.ledger.create_org(CreateOrg(actor=Actor(user_id="ann"), organization_alias="a"))
        runtime.sync()
        files = sorted(p.name for p in data.iterdir())
        assert {"events.db", "events.db-wal", "events.db-shm", "views.db", "views.db-wal", "views.db-shm"} <= set(files)
        assert {name: mode(data / name) for name in files} == {name: 0o600 for name in files}
        assert mode(data) == 0o700
    finally:
        runtime.close()


def test_files_of_an_earlier_version_are_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_runtime(make_settings("sqlite", tmp_path)).close()
    for path in data.iterdir():
        path.chmod(0o644)
    build_runtime(make_settings("sqlite", tmp_path)).close()
    assert {p.name: mode(p) for p in data.iterdir()} == {p.name: 0o600 for p in data.iterdir()}


def test_the_metrics_folder_and_an_export_are_private(tmp_path: Path) -> None:
    prepare_multiprocess_dir(tmp_path / "metrics")
    assert mode(tmp_path / "metrics") == 0o700
    build_runtime(make_settings("sqlite", tmp_path)).close()
    out = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(main, ["audit", "export", "--out", str(out)],
                                env={"ORGLEDGER_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    assert mode(out) == 0o600
