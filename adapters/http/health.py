"""/health/readiness: is the store reachable and are the views keeping up with the log?

The answer comes within a fixed budget (2 s) whatever the store does. One question to the store
is in flight at a time: a probe that arrives while one is still waiting shares its answer, so a
store that hangs holds one thread, not one per probe. On PostgreSQL the question goes over a
connection of its own with short timeouts (connect, statements, TCP), not through the request
pools, which may be the very thing that is stuck.

Not ready (503) when the store cannot be read in time; when a projection records that it cannot
apply an event (projections/failures.py), naming it, its position and the error; when the
views are behind the log and have made no progress for `stall_seconds` (no projector running,
or one that hangs); or, on SQLite with the views kept by another process, when no process holds
the projector's lock (commands would wait for a projector that is not there)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from orgledger.projections import failures
from orgledger.projections.failures import Failure
from orgledger.projections.store import Cursor

from orgledger.adapters.persistence import postgres
from orgledger.adapters.projector import sqlite_workers

if TYPE_CHECKING:
    from orgledger.adapters.runtime import Runtime

BUDGET = 2.0  # seconds: the whole answer, the store's question included


@dataclass(frozen=True)
class Snapshot:
    head: int
    positions: dict[str, int]
    failures: list[Failure] = field(default_factory=list)
    no_projector: str | None = None  # why no projector keeps these views, if none does


def read_through_runtime(runtime: Runtime) -> Snapshot:
    """SQLite (and the in-memory store of tests): local files, read as the requests read them."""
    head = runtime.ledger.recorder.max_notification_id() or 0
    with runtime.store.transaction(commit=False) as cur:
        snapshot = _views(cur, head, runtime.projector.projections)
    if not runtime.inline_projector and not sqlite_workers.projector_running(runtime.settings):
        lock = sqlite_workers.lock_path(runtime.settings)
        return replace(snapshot, no_projector=f"no projector holds {lock.name} in the data folder: "
                                              "is `serve` (without --no-projector) or `projections run` running?")
    return snapshot


def _views(cur: Cursor, head: int, projections: Any) -> Snapshot:
    positions = {p.name: p.position(cur) for p in projections}
    return Snapshot(head, positions, failures.current(cur, positions))


class PostgresProbe:
    """The readiness question on a connection of its own, opened again after any error."""

    def __init__(self, runtime: Runtime) -> None:
        self.settings = runtime.settings
        self.projections = runtime.projector.projections
        self.events_table = runtime.ledger.recorder.events_table_name
        self._connection: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Snapshot:
        with self._lock:
            try:
                return self._read()
            except Exception:
                self._close()
                raise

    def _read(self) -> Snapshot:
        if self._connection is None:
            self._connection = psycopg.connect(
                postgres.parse_database_url(self.settings.database_url or "").probe_conninfo(BUDGET),
                autocommit=True, row_factory=dict_row)
            self._connection.execute(sql.SQL("SET search_path TO {}").format(
                sql.Identifier(self.settings.pg_schema)))
        raw = self._connection.cursor()
        head = raw.execute(sql.SQL("SELECT MAX(notification_id) AS head FROM {}").format(
            sql.Identifier(self.events_table))).fetchone()
        return _views(Cursor(raw, True), int((head or {}).get("head") or 0), self.projections)

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        # Not after a question that hangs on a dead network: its thread is a daemon.
        if self._lock.acquire(timeout=BUDGET):
            try:
                self._close()
            finally:
                self._lock.release()


class Readiness:
    """Answers readiness probes from at most one store question at a time."""

    def __init__(self, read: Callable[[], Snapshot], stall_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.read = read
        self.stall_seconds = stall_seconds
        self.clock = clock
        self._inflight: Future[Snapshot] | None = None
        self._inflight_lock = threading.Lock()
        # The positions last seen and since when they have not moved.
        self._seen: dict[str, int] | None = None
        self._unchanged_since = 0.0

    def _ask(self) -> Future[Snapshot]:
        with self._inflight_lock:
            if self._inflight is None or self._inflight.done():
                self._inflight = Future()
                threading.Thread(target=self._run, args=(self._inflight,), name="orgledger-readiness",
                                 daemon=True).start()
            return self._inflight

    def _run(self, answer: Future[Snapshot]) -> None:
        try:
            answer.set_result(self.read())
        except BaseException as e:  # noqa: BLE001 - handed to the waiting probe
            answer.set_exception(e)

    async def check(self) -> tuple[int, dict[str, Any]]:
        try:
            snapshot = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._ask())), BUDGET)
        except (asyncio.TimeoutError, TimeoutError):
            return 503, {"status": "unhealthy", "db": "unreachable",
                         "error": f"the store did not answer within {BUDGET:g} s"}
        except Exception as e:  # any failure to read the store means "not ready"
            return 503, {"status": "unhealthy", "db": "disconnected", "error": failures.short(e)}
        return self.judge(snapshot)

    def judge(self, snapshot: Snapshot) -> tuple[int, dict[str, Any]]:
        now = self.clock()
        if snapshot.positions != self._seen:
            self._seen, self._unchanged_since = dict(snapshot.positions), now
        body: dict[str, Any] = {"status": "healthy", "db": "connected", "log_head": snapshot.head,
                                "projections": snapshot.positions}
        if snapshot.failures:
            first = snapshot.failures[0]
            return 503, {**body, "status": "unhealthy",
                         "error": f"projection {first.projection} cannot apply the event at position "
                                  f"{first.position}: {first.error}",
                         "stuck": [f.as_dict() for f in snapshot.failures]}
        if snapshot.no_projector:
            return 503, {**body, "status": "unhealthy", "error": snapshot.no_projector}
        behind = snapshot.head - min(snapshot.positions.values(), default=snapshot.head)
        idle = now - self._unchanged_since
        if behind > 0 and idle > self.stall_seconds:
            return 503, {**body, "status": "unhealthy",
                         "error": f"the views are {behind} events behind the log and made no progress "
                                  f"for {idle:.0f} s: is a projector running?",
                         "stalled": {"behind": behind, "seconds": round(idle, 1)}}
        return 200, body

    def close(self) -> None:
        closer = getattr(self.read, "close", None)
        if closer is not None:
            closer()


def readiness_for(runtime: Runtime) -> Readiness:
    if runtime.settings.backend == "postgres":
        read: Callable[[], Snapshot] = PostgresProbe(runtime)
    else:
        def read() -> Snapshot:
            return read_through_runtime(runtime)
    return Readiness(read, runtime.settings.readiness_stall_seconds)
