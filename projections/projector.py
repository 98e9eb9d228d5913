"""Brings read models up to the head of the event log, a batch per transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from .base import Projection
from .batch import BatchCursor
from .store import Cursor, ViewStore

BATCH_SIZE = 500


class LocalProgress:
    """The log position that projectors in this process have applied (and committed), so that a
    command waiting for the views in the same process is woken the moment they reach it,
    instead of polling the database."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.position = 0
        # True while a projector of this process keeps the views (it holds the projector lock).
        self.leading = False

    def advance(self, position: int) -> None:
        with self._changed:
            if position > self.position:
                self.position = position
                self._changed.notify_all()

    def wait(self, position: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.position >= position, timeout)


class Projector:
    """Applies logged events to projections; each batch and its position commit together."""

    def __init__(
        self, app: Any, store: ViewStore, projections: Sequence[Projection], batch_size: int = BATCH_SIZE
    ) -> None:
        self.app = app
        self.store = store
        self.projections = list(projections)
        self.batch_size = batch_size
        self._lock = threading.Lock()
        # Catch-ups are numbered as they start; `_completed` is the number of the last one
        # that finished. One that starts after a caller arrived has read everything the
        # caller committed before arriving, so that caller has nothing left to do.
        self._started = 0
        self._completed = 0
        # The log position every projection has reached through this projector's own batches
        # (positions only move forward), and for which projections.
        self.applied = 0
        self._applied_to: tuple[str, ...] = ()
        self.observers: list[Callable[[Projection, int], None]] = []
        # Run first in every batch transaction; PostgreSQL uses it to serialise projectors.
        self.fence: Callable[[Cursor], None] | None = None
        # Shared with the other projectors of this process on the same views (PostgreSQL).
        self.local_progress: LocalProgress | None = None

    def create_tables(self) -> None:
        with self.store.transaction() as cur:
            for projection in self.projections:
                projection.create_tables(cur)

    def positions(self) -> dict[str, int]:
        with self.store.transaction(commit=False) as cur:
            return {p.name: p.position(cur) for p in self.projections}

    def catch_up(self, progress: Callable[[int], None] | None = None, *, until: int | None = None) -> int:
        """Apply every event not yet applied; returns how many were read from the log.

        Concurrent callers share the work: under load, one catch-up (one view transaction)
        serves every request that was waiting for it, instead of one each. A caller that only
        needs the views to reach `until` returns as soon as a finished batch reached it (with
        group commit, one catch-up serves all the commands that committed together)."""
        if until is not None and self.applied >= until:
            return 0  # without queueing for the lock behind every other caller
        arrived_after = self._started
        with self._lock:
            if self._completed > arrived_after or (until is not None and self.applied >= until):
                return 0
            self._started += 1
            number = self._started
            done = self._catch_up(progress)
            self._completed = number
            return done

    def _catch_up(self, progress: Callable[[int], None] | None) -> int:
        if self.applied and self._applied_to == self._keys():
            start = self.applied  # no read of the positions: each is at least this far
        else:
            start = min(self.positions().values(), default=0)
        done = 0
        while True:
            notifications = self.app.recorder.select_notifications(
                start=start, limit=self.batch_size, inclusive_of_start=False
            )
            if not notifications:
                return done
            events = [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
            self._apply(events)
            start = notifications[-1].id
            done += len(notifications)
            if progress:
                progress(len(notifications))
            if len(notifications) < self.batch_size:
                # The head when this catch-up began is applied; no need to ask again.
                return done

    def _apply(self, events: list[tuple[int, Any]]) -> None:
        with self.store.transaction() as raw:
            cur = BatchCursor(raw)
            if self.fence:
                self.fence(cur)
            for projection in self.projections:
                position = projection.position(cur, lock=True)
                fresh = [(i, e) for i, e in events if i > position]
                projection.begin_batch()
                for i, event in fresh:
                    projection.handler(type(event))(event, cur, i)
                if fresh:
                    projection.set_position(cur, fresh[-1][0])
            cur.flush()
        keys = self._keys()
        self.applied = max(self.applied, events[-1][0]) if keys == self._applied_to else events[-1][0]
        self._applied_to = keys
        if self.local_progress is not None:
            self.local_progress.advance(self.applied)
        for projection in self.projections:
            for observe in self.observers:
                observe(projection, events[-1][0])

    def _keys(self) -> tuple[str, ...]:
        return tuple(p.position_key for p in self.projections)

    def wait_for(self, position: int, timeout: float = 10.0) -> None:
        """Block until every projection has applied `position` (a projector elsewhere runs)."""
        deadline = time.monotonic() + timeout
        delay = 0.001
        local = self.local_progress
        while True:
            if local is not None and local.leading:
                # The projector runs in this process and wakes us the moment it commits our
                # position; the database is still asked now and then, should it stop leading.
                if local.wait(position, 0.05):
                    return
            if min(self.positions().values(), default=0) >= position:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"projections did not reach position {position} within {timeout:g}s; "
                    "is a projector running (`orgledger projections run`, or `serve` without "
                    "--no-projector)?"
                )
            if local is None or not local.leading:
                time.sleep(delay)  # a projector elsewhere: poll
                delay = min(delay * 2, 0.05)
