"""The SQLite projector: one process per data folder keeps views.db when several serve it.

`serve --workers N` (N > 1) runs it in the supervising process, as on PostgreSQL, and its workers
only wait for it to show their writes (views_watch.py). It holds an exclusive `flock` on
`projector.lock` in the data folder; a second projector (another `serve` on the same folder,
or `projections run`) waits for that lock instead of applying beside it, and takes it over when
the holder ends, however it ends: the kernel drops the lock of a process that dies.

SQLite has no LISTEN/NOTIFY. A worker wakes the projector when it waits for the views
(projector_wake.py); besides, the projector asks events.db's `PRAGMA data_version`, which changes
when any other connection commits, every BUSY_POLL while writes come in and every IDLE_POLL when
none have for a second (writers that do not wake it: the CLI, another `serve`); a catch-up every
`poll` seconds is the safety net. An event that a
projection cannot apply is retried with a capped backoff, holding the lock (as on PostgreSQL).

Even two projectors that both applied (a `serve --workers 1`, which keeps its views itself, on
the same folder) would not apply an event twice: each batch reads the positions after taking
views.db's write lock (BEGIN IMMEDIATE) and applies only the events past them.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from orgledger.projections.failures import ProjectionError, short

from orgledger.adapters.persistence.file_lock import ExclusiveFileLock
from orgledger.adapters.projector.service import STUCK_BACKOFF, Backoff, ProjectorThread
from orgledger.adapters.projector.wake import WakeListener
from orgledger.adapters.http.read_cache import SQLiteDataVersion
from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.projector.sqlite_workers import lock_path

if TYPE_CHECKING:
    from orgledger.adapters.runtime import Runtime
    from orgledger.adapters.settings import Settings

log = logging.getLogger("orgledger.projector")
BUSY_POLL = 0.005  # seconds between looks at the log while writes come in
IDLE_POLL = 0.02  # and once none came for IDLE_AFTER seconds
IDLE_AFTER = 1.0
FAILED_BACKOFF = (0.1, 5.0)


class SQLiteProjectorService(ProjectorThread):
    """Runs until `stop()`: wait for the lock, then catch up whenever the log changes."""

    def __init__(self, settings: Settings, *, poll: float = 1.0, lock_retry: float = 0.2) -> None:
        super().__init__()
        self.settings = settings
        self.poll = poll
        self.lock_retry = lock_retry

    def run(self) -> None:
        lock = ExclusiveFileLock(lock_path(self.settings))
        try:
            self.state = "waiting"
            while not lock.try_acquire():
                if self._stopping.wait(self.lock_retry):
                    return
            self.state = "active"
            self.active.set()
            log.info("projector: active for %s", self.settings.data_dir)
            self._lead()
        finally:
            self.active.clear()
            self.state = "stopped"
            lock.release()

    def _lead(self) -> None:
        runtime: Runtime | None = None
        backoff = Backoff(*FAILED_BACKOFF)
        try:
            while not self._stopping.is_set():
                try:
                    if runtime is None:
                        runtime = build_runtime(self.settings, role="projector")
                    self._follow(runtime, backoff)
                except Exception as e:  # a projector that dies leaves every writer waiting: never die
                    self.state = "failed"
                    log.error("projector: failed (%s); retrying, at most %gs apart", short(e),
                              backoff.most, exc_info=e)
                    self._stopping.wait(backoff.take())
        finally:
            if runtime is not None:
                runtime.close()

    def _follow(self, runtime: Runtime, failed: Backoff) -> None:
        log_version = SQLiteDataVersion(str(self.settings.data_dir / "events.db"))
        try:
            woken: WakeListener | None = WakeListener(self.settings.data_dir)
        except OSError as e:  # a folder where no FIFO can be made: the looks at the log remain
            log.warning("projector: workers cannot wake it (%s); it looks at the log every %g s",
                        short(e), BUSY_POLL)
            woken = None
        try:
            seen = None
            changed_at = due = 0.0
            stuck = Backoff(*STUCK_BACKOFF)
            while not self._stopping.is_set():
                version, now = log_version(), time.monotonic()
                if version != seen:
                    seen, changed_at = version, now
                    if self.state != "stuck":  # an event being retried keeps its own schedule
                        due = 0.0
                if now >= due:
                    try:
                        runtime.projector.catch_up()
                        self.state = "active"
                        stuck.reset()
                        failed.reset()
                        due = now + self.poll
                    except ProjectionError:
                        # Recorded and logged by the projector; a standby would fail on it too.
                        self.state = "stuck"
                        due = now + stuck.take()
                pause = BUSY_POLL if now - changed_at < IDLE_AFTER else IDLE_POLL
                if woken is not None:
                    woken.wait(pause)
                else:
                    self._stopping.wait(pause)
        finally:
            if woken is not None:
                woken.close()
            log_version.close()
