"""Projection operations: how far each view is behind, and rebuilding one from the log while the
service keeps serving the old one.

A rebuild fills a second set of tables (same names with a prefix) in batches, then in one write
transaction applies the last few events, drops the live tables and renames the new ones into
their place. Readers see the old view or the new one, never a half-built one, and keep using the
same table names."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .base import Projection
from .projector import Projector
from .store import Cursor, ViewStore

PREFIX = "rebuild_"
BATCH_SIZE = 1000


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
    started = time.perf_counter()
    new, events = prepare(app, store, projection, batch_size, progress)
    with store.transaction() as cur:
        events += switch_over(app, cur, projection(), new, batch_size)
    return Rebuilt(new.name, events, time.perf_counter() - started)


def prepare(app: Any, store: ViewStore, projection: type[Projection], batch_size: int = BATCH_SIZE,
            progress: Callable[[int], None] | None = None) -> tuple[Projection, int]:
    """The first half of a rebuild: new tables beside the live ones, caught up in batches."""
    new = projection(prefix=PREFIX)
    with store.transaction() as cur:
        new.drop_tables(cur)  # what an interrupted rebuild left behind
        new.create_tables(cur)
    return new, Projector(app, store, [new], batch_size).catch_up(progress)


def switch_over(app: Any, cur: Cursor, live: Projection, new: Projection, batch_size: int) -> int:
    """Inside one write transaction: catch the new tables up to the head, put them in the live
    tables' place and move the live position to theirs. Returns the events applied here."""
    live.position(cur, lock=True)  # a projector elsewhere waits until the switch commits
    applied = 0
    position = new.position(cur)
    while notifications := app.recorder.select_notifications(
        start=position, limit=batch_size, inclusive_of_start=False
    ):
        for n in notifications:
            new.apply(app.mapper.to_domain_event(n), cur, n.id)
        position = notifications[-1].id
        applied += len(notifications)
    for table in live.t.values():
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    for key, table in new.t.items():
        cur.execute(f"ALTER TABLE {table} RENAME TO {live.t[key]}")
    _rename_indexes(cur, live)
    cur.execute("DELETE FROM projection_positions WHERE name=?", (new.position_key,))
    live.set_position(cur, position)
    return applied


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
