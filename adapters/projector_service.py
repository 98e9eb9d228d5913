"""The PostgreSQL projector: exactly one process keeps the read models, guarded by an advisory lock.

A second projector waits for the lock instead of colliding. Appends wake the active one through
LISTEN/NOTIFY (eventsourcing notifies on every insert), with a periodic catch-up as a safety net.
Losing the database connection loses the lock too, so the projector reconnects, takes the lock
again and resumes from its position in `projection_positions`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg import sql

from . import postgres
from .runtime import build_runtime

if TYPE_CHECKING:
    from orgledger.projections.base import Projection

    from .runtime import Runtime
    from .settings import Settings

log = logging.getLogger("orgledger.projector")
WAKE = 0.1  # seconds between checks for stop()


class ProjectorService:
    """Runs until `stop()`: wait for the lock, then catch up on every NOTIFY (or every `poll`)."""

    def __init__(
        self,
        settings: Settings,
        *,
        extra_projections: Sequence[Projection] = (),
        poll: float = 1.0,
        lock_retry: float = 0.5,
    ) -> None:
        self.settings = settings
        self.extra_projections = list(extra_projections)
        self.poll = poll
        self.lock_retry = lock_retry
        self.state = "starting"
        self.active = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ProjectorService:
        """Run in a daemon thread (what `serve` does)."""
        self._thread = threading.Thread(target=self.run, name="orgledger-projector", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        runtime: Runtime | None = None
        backoff = 0.1
        try:
            while not self._stopping.is_set():
                try:
                    if runtime is None:
                        runtime = self._build()
                    self._lead(runtime)
                    backoff = 0.1
                except Exception:  # a projector that dies leaves every writer waiting: never die
                    self.active.clear()
                    self.state = "reconnecting"
                    log.exception("projector: lost the database or failed a batch; retrying in %.1fs",
                                  backoff)
                    self._stopping.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            self.active.clear()
            self.state = "stopped"
            if runtime is not None:
                runtime.close()

    def _build(self) -> Runtime:
        runtime = build_runtime(self.settings, role="projector")
        if self.extra_projections:
            runtime.projector.projections.extend(self.extra_projections)
            runtime.projector.create_tables()
        return runtime

    def _lead(self, runtime: Runtime) -> None:
        key = postgres.lock_key(self.settings, "projector")
        channel = runtime.ledger.recorder.channel_name  # type: ignore[attr-defined]
        with postgres.connect(self.settings) as conn:
            self.state = "waiting"
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:  # type: ignore[index]
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

    def _follow(self, runtime: Runtime, conn: Any) -> None:
        due = 0.0
        while not self._stopping.is_set():
            if time.monotonic() >= due:
                runtime.projector.catch_up()
                # A dead peer does not always end notifies(); a round trip does notice.
                conn.execute("SELECT 1")
                due = time.monotonic() + self.poll
            # Short waits keep stop() prompt; a NOTIFY makes the next catch-up due now.
            for _ in conn.notifies(timeout=WAKE, stop_after=1):
                due = 0.0
