"""What every read model shares: its tables, its log position, and how events reach it."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from datetime import datetime
from functools import singledispatchmethod
from typing import Any

from orgledger.projections.failures import FAILURES_DDL
from orgledger.projections.store import Cursor


def iso(ts: datetime) -> str:
    """LiteLLM's timestamp format: ISO-8601 UTC with microseconds and a Z."""
    # Same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ") at a tenth of the cost: a rebuild
    # formats a timestamp for every event, and for every view (hence the last one is kept).
    global _last_iso
    last = _last_iso
    if last[0] == ts and last[0].tzinfo is ts.tzinfo:  # type: ignore[union-attr]
        return last[1]
    text = ts.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    _last_iso = (ts, text)
    return text


_last_iso: tuple[datetime | None, str] = (None, "")


_INDEX_NAME = re.compile(r"CREATE (?:UNIQUE )?INDEX (?:IF NOT EXISTS )?(\S+)", re.IGNORECASE)

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_positions "
    "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)
# Which layout (Projection.layout) each projection's tables were created with.
LAYOUTS_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_layouts "
    "(name TEXT PRIMARY KEY, layout BIGINT NOT NULL)"
)


class Projection:
    """A read model: SQL tables kept in step with the event log.

    `prefix` lets a rebuild fill a second set of tables beside the live one."""

    name = "projection"
    table_names: tuple[str, ...] = ()
    # Indexes of ddl() (by name as written there, e.g. "{audit_log}_object") that event handlers
    # read through. A rebuild's bulk load keeps only these and creates the others after it:
    # one sort per index is much cheaper than updating it row by row.
    handler_indexes: tuple[str, ...] = ()
    # The version of ddl()'s tables. Raise it when they change in a way that tables created by
    # an earlier version cannot follow: `serve` then rebuilds them from the log when it starts
    # (projections/rebuild.py, ensure_layouts). Tables from before layouts were recorded count as 1.
    layout = 1

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.t = {name: f"{prefix}{name}" for name in self.table_names}
        # Whether this object alone writes its tables, which it created empty (a rebuild's new
        # tables): then what it wrote in earlier batches is still what they hold.
        self.sole_writer = False

    def own_tables(self) -> None:
        """The tables were just created empty and nothing else writes them."""
        self.sole_writer = True

    def begin_batch(self) -> None:
        """Called before each batch transaction's events. A view that remembers what it wrote
        must forget it here unless it is the sole writer: another process may have written since."""

    @property
    def position_key(self) -> str:
        return f"{self.prefix}{self.name}"

    def ddl(self) -> list[str]:
        raise NotImplementedError

    def create_tables(self, cur: Cursor, *, bulk_load: bool = False) -> None:
        """`bulk_load`: without the indexes no handler needs; `create_later_indexes` adds them."""
        cur.execute(POSITIONS_DDL)
        cur.execute(FAILURES_DDL)
        for statement in self.ddl():
            if not (bulk_load and self._later(statement)):
                cur.execute(self._format(statement, cur))

    def create_later_indexes(self, cur: Cursor) -> None:
        for statement in self.ddl():
            if self._later(statement):
                cur.execute(self._format(statement, cur))

    def _format(self, statement: str, cur: Cursor) -> str:
        """Table names, and the words that differ by backend: `{int_key}` is SQLite's rowid
        (INTEGER PRIMARY KEY, no index of its own); `{without_rowid}` keeps a SQLite table's rows
        in its primary key's B-tree, one B-tree to write instead of two."""
        if cur.postgres:
            return statement.format(**self.t, int_key="BIGINT", without_rowid="")
        return statement.format(**self.t, int_key="INTEGER", without_rowid=" WITHOUT ROWID")

    def _later(self, statement: str) -> bool:
        index = _INDEX_NAME.match(statement)
        return index is not None and index.group(1) not in self.handler_indexes

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(POSITIONS_DDL)  # a rebuild may be the first to open the views
        for table in self.t.values():
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute("DELETE FROM projection_positions WHERE name=?", (self.position_key,))
        cur.execute(LAYOUTS_DDL)
        cur.execute("DELETE FROM projection_layouts WHERE name=?", (self.position_key,))
        cur.execute(FAILURES_DDL)
        cur.execute("DELETE FROM projection_failures WHERE name=?", (self.position_key,))

    def stored_layout(self, cur: Cursor) -> int | None:
        """The layout its tables were created with; None when none was recorded (tables of an
        older orgledger, or no tables yet: see has_tables)."""
        cur.execute(LAYOUTS_DDL)
        row = cur.execute("SELECT layout FROM projection_layouts WHERE name=?", (self.position_key,)).one()
        return None if row is None else int(row["layout"])

    def set_layout(self, cur: Cursor) -> None:
        """Record that its tables now have this class's layout."""
        cur.execute(LAYOUTS_DDL)
        cur.execute(
            "INSERT INTO projection_layouts (name, layout) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET layout = excluded.layout",
            (self.position_key, self.layout),
        )

    def has_tables(self, cur: Cursor) -> bool:
        """Whether any of its tables exists."""
        for table in self.t.values():
            if cur.postgres:
                row = cur.execute("SELECT to_regclass(?) AS found", (table,)).one()
                found = row is not None and row["found"] is not None
            else:
                found = cur.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                                    (table,)).one() is not None
            if found:
                return True
        return False

    def switched_over(self, cur: Cursor, new: Projection) -> None:
        """After a rebuild renamed `new`'s tables into this one's place: move anything else
        `new` keeps beside its tables (before create_tables runs for the live names)."""

    def position(self, cur: Cursor, *, lock: bool = False) -> int:
        """`lock` (inside a write): hold the row until commit, so that a writer and a rebuild's
        switch-over never both act on the same position (PostgreSQL; SQLite writers are serial)."""
        lock_clause = " FOR UPDATE" if lock and cur.postgres else ""
        row = cur.execute(
            "SELECT position FROM projection_positions WHERE name=?" + lock_clause, (self.position_key,)
        ).one()
        return row["position"] if row else 0

    def set_position(self, cur: Cursor, position: int) -> None:
        cur.execute(
            "INSERT INTO projection_positions (name, position) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            (self.position_key, position),
        )

    @singledispatchmethod
    def apply(self, event: Any, cur: Cursor, position: int) -> None:
        """Events this view does not show only move its position on."""

    def handler(self, event_type: type) -> Callable[[Any, Cursor, int], None]:
        """`apply` for one event class, resolved once. (On Python 3.11 every access to a
        singledispatchmethod builds a new wrapper: a third of a rebuild's time.)"""
        handlers = self.__dict__.setdefault("_handlers", {})
        try:
            return handlers[event_type]
        except KeyError:
            method = inspect.getattr_static(self, "apply")
            if isinstance(method, singledispatchmethod):
                bound = method.dispatcher.dispatch(event_type).__get__(self, type(self))
            else:
                bound = self.apply
            handlers[event_type] = bound
            return bound
