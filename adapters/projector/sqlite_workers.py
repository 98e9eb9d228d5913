"""Several processes on one SQLite data folder (`serve --workers N`): who keeps the views.

One projector per data folder keeps views.db (sqlite_projector.py); it holds `projector.lock`
there. The other processes only read the views, and a command waits for them to show its write
(views_watch.py), as API workers do on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orgledger.adapters.persistence.file_lock import exclusively, is_held
from orgledger.adapters.projector.wake import WakeSender
from orgledger.adapters.settings import Settings
from orgledger.adapters.projector.views_watch import WatchedViews

if TYPE_CHECKING:
    from orgledger.projections.base import Projection
    from orgledger.projections.store import ViewStore

LOCK_FILE = "projector.lock"
SETUP_LOCK_FILE = "setup.lock"
# Set by `serve` for its workers: their views are kept by a projector in another process.
ELSEWHERE_ENV = "ORGLEDGER_SQLITE_PROJECTOR_ELSEWHERE"


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / LOCK_FILE


def projector_running(settings: Settings) -> bool:
    """Whether some process holds the data folder's projector lock."""
    return is_held(lock_path(settings))


def projector_elsewhere(settings: Settings, role: str) -> bool:
    """Whether this process's views are kept by a projector in another process."""
    return settings.backend == "sqlite" and role != "projector" and bool(os.environ.get(ELSEWHERE_ENV))


def watched_views(settings: Settings, store: ViewStore, projections: Sequence[Projection]) -> WatchedViews:
    """How the commands of a process whose views a projector elsewhere keeps wait for it to
    show their writes."""
    return WatchedViews(store.datastore.pool.db_name, [p.position_key for p in projections],
                        WakeSender(settings.data_dir).wake)


@contextmanager
def setup_lock(settings: Settings) -> Iterator[None]:
    """Serialises the creation of the tables (and the rebuild of outdated layouts) across the
    processes that start together on one data folder, as postgres.setup_lock does."""
    with exclusively(settings.data_dir / SETUP_LOCK_FILE):
        yield
