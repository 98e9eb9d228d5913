"""Brings read models up to the head of the event log, a batch per transaction."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from orgledger.projections import failures
from orgledger.projections.base import Projection, iso
from orgledger.projections.batch import BatchCursor
from orgledger.projections.failures import ProjectionError
from orgledger.projections.store import Cursor, ViewStore

BATCH_SIZE = 500
log = logging.getLogger("orgledger.projections")


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


def _follows_on(written: Sequence[tuple[int, Any]], start: int) -> bool:
    """Whether these positions come right after `start`, one after another."""
    return bool(written) and all(position == start + n for n, (position, _) in enumerate(written, 1))


class _Written:
    """A stored event and its position, as select_notifications would have read it back."""

    __slots__ = ("id", "originator_id", "originator_version", "topic", "state")

    def __init__(self, position: int, stored: Any) -> None:
        self.id = position
        self.originator_id = stored.originator_id
        self.originator_version = stored.originator_version
        self.topic = stored.topic
        self.state = stored.state


class Projector:
    """Applies logged events to projections; each batch and its position commit together."""

    def __init__(
        self, app: Any, store: ViewStore, projections: Sequence[Projection], batch_size: int = BATCH_SIZE, *,
        fence: Callable[[Cursor], None] | None = None, local_progress: LocalProgress | None = None,
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
        self.fence = fence
        # Shared with the other projectors of this process on the same views (PostgreSQL).
        self.local_progress = local_progress
        # The failure this projector is retrying (position keys, position) and its attempts, for
        # one log line per episode; and whether projection_failures may hold rows to clear
        # (unknown at start: an earlier process may have left some).
        self.reports_failures = True  # False: the caller reports them (a rebuild)
        self._failing: tuple[tuple[str, ...], int] | None = None
        self._failed_attempts = 0
        self._failures_recorded = True

    def create_tables(self) -> None:
        with self.store.transaction() as cur:
            for projection in self.projections:
                projection.create_tables(cur)

    def positions(self) -> dict[str, int]:
        with self.store.transaction(commit=False) as cur:
            return {p.name: p.position(cur) for p in self.projections}

    def catch_up_written(self, written: Sequence[tuple[int, Any]]) -> int:
        """What the writer of a batch calls once it is committed, with its (position, stored
        event) pairs: the views catch up without waiting (see `catch_up`), and without reading
        those events back from the log when they follow on from what the views show."""
        return self.catch_up(wait=False, written=written)

    def catch_up(self, progress: Callable[[int], None] | None = None, *, until: int | None = None,
                 wait: bool = True, written: Sequence[tuple[int, Any]] = ()) -> int:
        """Apply every event not yet applied; returns how many were read from the log.

        Concurrent callers share the work: under load, one catch-up (one view transaction)
        serves every request that was waiting for it, instead of one each. A caller that only
        needs the views to reach `until` returns as soon as a finished batch reached it (with
        group commit, one catch-up serves all the commands that committed together). With
        `wait` False it returns at once if another catch-up is running or a projection is
        failing: the writer of a batch calls it so, and must not be held up by either."""
        if until is not None and self.applied >= until:
            return 0  # without queueing for the lock behind every other caller
        if not wait and self._failing is not None:
            return 0
        arrived_after = self._started
        if not self._lock.acquire(blocking=wait):
            return 0
        try:
            if self._completed > arrived_after or (until is not None and self.applied >= until):
                return 0
            self._started += 1
            number = self._started
            done = self._catch_up(progress, written)
            self._completed = number
            return done
        finally:
            self._lock.release()

    def _catch_up(self, progress: Callable[[int], None] | None,
                  written: Sequence[tuple[int, Any]] = ()) -> int:
        if self.applied and self._applied_to == self._keys():
            start = self.applied  # no read of the positions: each is at least this far
        else:
            start = min(self.positions().values(), default=0)
        done = 0
        while True:
            if _follows_on(written, start):
                notifications: Sequence[Any] = [_Written(i, e) for i, e in written]
                written = ()
            else:
                notifications = self.app.recorder.select_notifications(
                    start=start, limit=self.batch_size, inclusive_of_start=False
                )
            if not notifications:
                return done
            try:
                self._apply_or_pinpoint(self._decode(notifications))
            except ProjectionError as e:
                if self.reports_failures:
                    self._report(e)
                raise
            start = notifications[-1].id
            done += len(notifications)
            if progress:
                progress(len(notifications))
            if len(notifications) < self.batch_size:
                # The head when this catch-up began is applied; no need to ask again.
                return done

    def _decode(self, notifications: Sequence[Any]) -> list[tuple[int, Any]]:
        events = []
        for n in notifications:
            try:
                events.append((n.id, self.app.mapper.to_domain_event(n)))
            except Exception as e:
                if events:  # what comes before it still reaches the views
                    self._apply_or_pinpoint(events)
                raise ProjectionError(None, n.id, e) from e
        return events

    def _apply_or_pinpoint(self, events: list[tuple[int, Any]]) -> None:
        """Apply a batch; if a projection fails on it, apply its events one at a time: those
        before the failing event reach the views, and the failure names its exact position."""
        try:
            self._apply(events)
        except ProjectionError:
            if len(events) == 1:
                raise
            for event in events:
                self._apply([event])

    def _apply(self, events: list[tuple[int, Any]]) -> None:
        with self.store.transaction() as raw:
            cur = BatchCursor(raw)
            if self.fence:
                self.fence(cur)
            for projection in self.projections:
                position = projection.position(cur, lock=True)
                fresh = [(i, e) for i, e in events if i > position]
                projection.begin_batch()
                try:
                    for i, event in fresh:
                        projection.handler(type(event))(event, cur, i)
                    if fresh:
                        projection.set_position(cur, fresh[-1][0])  # sends its held rows too
                except Exception as e:
                    if failures.is_transient(e):
                        raise
                    # In a batch of several the culprit may be any fresh event (held rows are
                    # sent later): _apply_or_pinpoint finds it.
                    raise ProjectionError(projection.position_key, fresh[0][0], e) from e
            if self._failures_recorded:
                failures.clear(cur, self._keys(), events[-1][0])
                self._failures_recorded = failures.remaining(cur, self._keys())
            cur.flush()
        self._recovered(events[-1][0])
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

    def _report(self, error: ProjectionError) -> None:
        """Record the failed attempt where every process can see it, and log the first one."""
        names = (error.projection,) if error.projection else self._keys()
        episode = (names, error.position)
        self._failed_attempts = self._failed_attempts + 1 if episode == self._failing else 1
        if episode != self._failing:
            log.error("projection %s cannot apply the event at position %d (%s); retrying until it can",
                      ", ".join(names), error.position, failures.short(error.cause))
            log.debug("projection failure", exc_info=error.cause)
        self._failing = episode
        try:
            with self.store.transaction() as cur:
                failures.record(cur, list(names), error.position, failures.short(error.cause),
                                iso(datetime.now(timezone.utc)))
            self._failures_recorded = True
        except Exception as e:  # the views' database is failing too: the caller sees the error
            log.debug("could not record the projection failure: %s", failures.short(e))

    def _recovered(self, applied: int) -> None:
        if self._failing is not None and applied >= self._failing[1]:
            names, position = self._failing
            log.warning("projection %s applied the event at position %d after %d failed attempt(s)",
                        ", ".join(names), position, self._failed_attempts)
            self._failing = None
            self._failed_attempts = 0

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
                raise failures.ViewsBehind(
                    f"projections did not reach position {position} within {timeout:g}s; "
                    "is a projector running (`orgledger projections run`, or `serve` without "
                    "--no-projector)?"
                )
            if local is None or not local.leading:
                time.sleep(delay)  # a projector elsewhere: poll
                delay = min(delay * 2, 0.05)
