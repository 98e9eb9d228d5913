"""The PostgreSQL projector: exactly one process keeps the read models, guarded by an advisory lock.

A second projector waits for the lock instead of colliding. Appends wake the active one through
LISTEN/NOTIFY (eventsourcing notifies on every insert), with a periodic catch-up as a safety net.
Losing the database connection loses the lock too, so the projector reconnects, takes the lock
again and resumes from its position in `projection_positions`. It logs one line when it loses
the database and one when it is back, and retries in between with a capped exponential backoff.
An event that a projection cannot apply is retried the same way, holding the lock; the projector
records and logs it (projections/failures.py), and readiness reports it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg import sql

from orgledger.projections.failures import ProjectionError, is_transient, short

from orgledger.adapters.persistence import postgres
from orgledger.adapters.projector.service import STUCK_BACKOFF, Backoff, ProjectorThread
from orgledger.adapters.runtime import build_runtime

if TYPE_CHECKING:
    from orgledger.projections.base import Projection

    from orgledger.adapters.runtime import Runtime
    from orgledger.adapters.settings import Settings

log = logging.getLogger("orgledger.projector")
WAKE = 0.1  # seconds between checks for stop()
# Seconds between attempts while the database is away: doubling from the first to the last.
RECONNECT_BACKOFF = (0.1, 5.0)


class ProjectorService(ProjectorThread):
    """Runs until `stop()`: wait for the lock, then catch up on every NOTIFY (or every `poll`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        extra_projections: Sequence[Projection] = (),
        poll: float = 1.0,
        lock_retry: float = 0.5,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.extra_projections = list(extra_projections)
        self.poll = poll
        self.lock_retry = lock_retry
        self._lost_at: float | None = None  # while the database is away (or a batch fails): since when

    def run(self) -> None:
        runtime: Runtime | None = None
        backoff = Backoff(*RECONNECT_BACKOFF)
        try:
            while not self._stopping.is_set():
                try:
                    if runtime is None:
                        runtime = self._build()
                    self._lead(runtime, backoff)
                except Exception as e:  # a projector that dies leaves every writer waiting: never die
                    self.active.clear()
                    self.state = "reconnecting"
                    if self._lost_at is None:  # one line per outage, not one per attempt
                        self._lost_at = time.monotonic()
                        if is_transient(e):
                            log.warning("projector: lost the database (%s); reconnecting, at most %gs apart",
                                        short(e), backoff.most)
                        else:
                            log.error("projector: failed (%s); retrying, at most %gs apart", short(e),
                                      backoff.most, exc_info=e)
                    self._stopping.wait(backoff.take())
        finally:
            self.active.clear()
            self.state = "stopped"
            if runtime is not None:
                runtime.close()

    def _build(self) -> Runtime:
        return build_runtime(self.settings, role="projector", extra_projections=self.extra_projections)

    def _lead(self, runtime: Runtime, backoff: Backoff) -> None:
        key = postgres.lock_key(self.settings, "projector")
        channel = runtime.ledger.recorder.channel_name  # type: ignore[attr-defined]
        with postgres.connect(self.settings) as conn:
            backoff.reset()
            self.state = "waiting"
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:  # type: ignore[index]
                self._back()  # a standby: its connection works, and it needs nothing else yet
                if self._stopping.wait(self.lock_retry):
                    return
            # LISTEN before catching up, so no append between the two goes unnoticed.
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.state = "active"
            self.active.set()
            # Commands served by this process wait on the projector's progress, not the database.
            progress = postgres.local_progress(self.settings)
            progress.leading = True
            log.info("projector: active in schema %s", self.settings.pg_schema)
            try:
                self._follow(runtime, conn)
            finally:
                progress.leading = False
            self.active.clear()

    def _back(self) -> None:
        """One line when an outage is over: once the projector has been through the log again
        (its pooled connections may still fail for a moment after its own connection is made),
        or, for a standby, once its connection answers."""
        if self._lost_at is not None:
            log.warning("projector: the database is back after %.1fs", time.monotonic() - self._lost_at)
            self._lost_at = None

    def _follow(self, runtime: Runtime, conn: Any) -> None:
        due = 0.0
        stuck = Backoff(*STUCK_BACKOFF)
        while not self._stopping.is_set():
            if time.monotonic() >= due:
                # A dead peer does not always end notifies(); a round trip does notice. Asked
                # before the catch-up: one started on a lost database waits out the store's
                # retries (up to ten pool timeouts) before it fails.
                conn.execute("SELECT 1")
                try:
                    runtime.projector.catch_up()
                    self._back()
                    self.state = "active"
                    stuck.reset()
                    due = time.monotonic() + self.poll
                except ProjectionError:
                    # Recorded and logged by the projector; the connection is fine and the lock
                    # kept: a standby would fail on the same event.
                    self._back()
                    self.state = "stuck"
                    due = time.monotonic() + stuck.take()
            # Short waits keep stop() prompt; a NOTIFY makes the next catch-up due now, unless
            # an event is being retried on its own schedule.
            for _ in conn.notifies(timeout=WAKE, stop_after=1):
                if self.state != "stuck":
                    due = 0.0
