"""Projection operations: how far each view is behind, and rebuilding views from the log while the
service keeps serving the old one.

A rebuild fills a second set of tables (same names with a prefix) in batches, then in one write
transaction applies the last few events, drops the live tables and renames the new ones into
their place. Readers see the old view or the new one, never a half-built one, and keep using the
same table names."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from orgledger.projections.base import LAYOUTS_DDL, Projection
from orgledger.projections.batch import BatchCursor
from orgledger.projections.failures import ProjectionError, is_transient, short
from orgledger.projections.projector import Projector
from orgledger.projections.store import Cursor, ViewStore

PREFIX = "rebuild_"
# Fewer, larger transactions: each commit waits for the disk.
BATCH_SIZE = 5000


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


def status(app: Any, store: ViewStore, projections: Sequence[Projection]) -> list[Status]:
    head = app.recorder.max_notification_id() or 0
    with store.transaction(commit=False) as cur:
        return [Status(p.name, p.position(cur), head) for p in projections]


@dataclass(frozen=True)
class Rebuilt:
    name: str
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        return f"{self.name}: {self.events} events, {self.seconds:.2f} seconds, {self.rate:.0f} events/s"


def rebuild(app: Any, store: ViewStore, projection: type[Projection], *,
            batch_size: int = BATCH_SIZE, progress: Callable[[int], None] | None = None) -> Rebuilt:
    return rebuild_all(app, store, [projection], batch_size=batch_size, progress=progress)


def rebuild_all(app: Any, store: ViewStore, projections: Sequence[type[Projection]], *,
                batch_size: int = BATCH_SIZE, progress: Callable[[int], None] | None = None) -> Rebuilt:
    """Every projection in `projections` from one pass over the log: reading and decoding the
    log is most of a rebuild's cost, so each event is decoded once and applied to all of them."""
    started = time.perf_counter()
    try:
        news, events = prepare_all(app, store, projections, batch_size, progress)
        with store.transaction() as cur:
            events += switch_over_all(app, cur, [cls() for cls in projections], news, batch_size)
    except BaseException as e:
        # The live views are as they were; what the rebuild built beside them goes.
        discard(store, projections, e)
        raise
    name = ", ".join(new.name for new in news)
    return Rebuilt(name, events, time.perf_counter() - started)


def discard(store: ViewStore, projections: Sequence[type[Projection]], cause: BaseException) -> None:
    """Drop the new tables of a rebuild that failed (best effort: the store may be the failure)."""
    try:
        with store.transaction() as cur:
            for cls in projections:
                cls(prefix=PREFIX).drop_tables(cur)
    except Exception as e:
        cause.add_note(f"(could not drop the {PREFIX}* tables either: {short(e)})")


def prepare(app: Any, store: ViewStore, projection: type[Projection], batch_size: int = BATCH_SIZE,
            progress: Callable[[int], None] | None = None) -> tuple[Projection, int]:
    """The first half of a rebuild: new tables beside the live ones, caught up in batches."""
    news, events = prepare_all(app, store, [projection], batch_size, progress)
    return news[0], events


def prepare_all(app: Any, store: ViewStore, projections: Sequence[type[Projection]],
                batch_size: int = BATCH_SIZE, progress: Callable[[int], None] | None = None
                ) -> tuple[list[Projection], int]:
    news = [projection(prefix=PREFIX) for projection in projections]
    with store.transaction() as cur:
        for new in news:
            new.drop_tables(cur)  # what an interrupted rebuild left behind
            new.create_tables(cur, bulk_load=True)
            new.own_tables()
    projector = Projector(app, store, news, batch_size)
    projector.reports_failures = False  # the rebuild fails and says why; nothing retries it
    with _without_cycle_collection():
        events = projector.catch_up(progress)
    # Before the switch-over, so that its write transaction stays short. SQLite cannot rename
    # an index, so its switch-over builds every index again under the live name: building these
    # here as well would only build them twice.
    if store.postgres:
        with store.transaction() as cur:
            for new in news:
                new.create_later_indexes(cur)
    return news, events


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """A rebuild allocates objects by the million and keeps many (what the views remember), so
    the cycle collector would walk them again and again: a fifth of the load's time. Events and
    rows hold no reference cycles, so reference counting frees them all the same."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def switch_over(app: Any, cur: Cursor, live: Projection, new: Projection, batch_size: int) -> int:
    return switch_over_all(app, cur, [live], [new], batch_size)


def switch_over_all(app: Any, cur: Cursor, lives: Sequence[Projection], news: Sequence[Projection],
                    batch_size: int) -> int:
    """Inside one write transaction: catch the new tables up to the head, put them in the live
    tables' place and move the live positions to theirs. Returns the events read here."""
    cur = BatchCursor(cur)
    cur.execute(LAYOUTS_DDL)
    for live in lives:
        live.position(cur, lock=True)  # a projector elsewhere waits until the switch commits
    positions = [new.position(cur) for new in news]
    start = min(positions, default=0)
    read = first = 0
    while notifications := app.recorder.select_notifications(
        start=start, limit=batch_size, inclusive_of_start=False
    ):
        for new in news:
            new.begin_batch()
        for n in notifications:
            with _blaming(None, n.id):
                event = app.mapper.to_domain_event(n)
            for k, new in enumerate(news):
                if n.id > positions[k]:
                    with _blaming(new.position_key, n.id):
                        new.handler(type(event))(event, cur, n.id)
                    positions[k] = n.id
        first = first or notifications[0].id
        start = notifications[-1].id
        read += len(notifications)
    with _blaming(None, first):  # the rows held back until now: any of these events'
        cur.flush()
    for live, new, position in zip(lives, news, positions):
        for table in live.t.values():
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        for key, table in new.t.items():
            cur.execute(f"ALTER TABLE {table} RENAME TO {live.t[key]}")
        live.switched_over(cur, new)
        _rename_indexes(cur, live)
        cur.execute("DELETE FROM projection_positions WHERE name=?", (new.position_key,))
        cur.execute("DELETE FROM projection_layouts WHERE name=?", (new.position_key,))
        live.set_position(cur, position)
        live.set_layout(cur)
    return read


@contextmanager
def _blaming(projection: str | None, position: int) -> Iterator[None]:
    try:
        yield
    except Exception as e:
        if is_transient(e):
            raise
        raise ProjectionError(projection, position, e) from e


def outdated_layouts(store: ViewStore, projections: Sequence[Projection]) -> list[Projection]:
    """The projections whose tables an earlier orgledger created with another layout. Tables
    that do not exist yet are created here, with the current layout."""
    stale = []
    with store.transaction() as cur:
        for projection in projections:
            stored = projection.stored_layout(cur)
            if stored == projection.layout:
                continue
            if stored is None and not projection.has_tables(cur):
                projection.create_tables(cur)
                projection.set_layout(cur)
                continue
            stale.append(projection)
    return stale



def _rename_indexes(cur: Cursor, live: Projection) -> None:
    """Renamed tables keep their indexes' prefixed names; give them the live names back, so the
    next rebuild's new indexes do not collide with them."""
    if cur.postgres:
        for table in live.t.values():
            rows = cur.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename=?",
                (table,),
            ).all()
            for row in rows:
                if row["indexname"].startswith(PREFIX):
                    cur.execute(f'ALTER INDEX "{row["indexname"]}" RENAME TO '
                                f'"{row["indexname"][len(PREFIX):]}"')
        return
    # SQLite cannot rename an index: drop the prefixed ones and create them under the live names.
    for table in live.t.values():
        rows = cur.execute(
            "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL",
            (table,),
        ).all()
        for row in rows:
            if row["name"].startswith(PREFIX):
                cur.execute(f'DROP INDEX "{row["name"]}"')
    live.create_tables(cur)
