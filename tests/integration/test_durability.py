from __future__ import annotations

from pathlib import Path

from orgledger.adapters.runtime import build_runtime
from tests.conftest import make_settings

FULL = 2


def test_the_sqlite_event_log_syncs_every_commit_to_disk(tmp_path: Path) -> None:
    # WAL with synchronous=FULL: a commit is on disk before the command is answered,
    # so neither SIGKILL nor a power cut can take back a 200.
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    try:
        for commit in (False, True):  # readers' and the writer's connections alike
            with runtime.ledger.recorder.datastore.transaction(commit=commit) as cur:
                cur.execute("PRAGMA journal_mode")
                assert cur.fetchone()[0] == "wal"
                cur.execute("PRAGMA synchronous")
                assert cur.fetchone()[0] == FULL
    finally:
        runtime.close()
