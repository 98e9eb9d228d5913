"""SQLite: the event log commits to disk; the views, derived from it, commit without waiting."""

from __future__ import annotations

from pathlib import Path

from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.settings import Settings
from orgledger.application.commands import CreateOrg
from orgledger.domain.values import Actor

FULL, NORMAL = 2, 1


def synchronous(datastore: object) -> int:
    with datastore.get_connection(commit=False) as conn:  # type: ignore[attr-defined]
        cursor = conn.cursor()
        cursor.execute("PRAGMA synchronous")
        return int(cursor.fetchone()[0])


def test_views_do_not_wait_for_the_disk_but_the_log_does(tmp_path: Path) -> None:
    runtime = build_runtime(Settings(master_key="k", data_dir=tmp_path, backend="sqlite"))
    try:
        assert synchronous(runtime.store.datastore) == NORMAL
        assert synchronous(runtime.ledger.factory.datastore) == FULL  # type: ignore[attr-defined]
    finally:
        runtime.close()


def test_views_lost_with_their_positions_are_rebuilt_from_the_log_at_start(tmp_path: Path) -> None:
    settings = Settings(master_key="k", data_dir=tmp_path, backend="sqlite")
    runtime = build_runtime(settings)
    done = runtime.ledger.create_org(CreateOrg(actor=Actor(user_id="admin"), organization_alias="kept"))
    runtime.close()
    # What a power cut may do to views.db: its last transactions, positions included, are gone.
    (tmp_path / "views.db").unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"views.db{suffix}").unlink(missing_ok=True)
    runtime = build_runtime(settings)
    try:
        with runtime.read() as cur:
            shown = runtime.organizations.org(cur, done.organization_ids[0])
        assert shown is not None and shown["organization_alias"] == "kept"
    finally:
        runtime.close()
