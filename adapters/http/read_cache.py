"""Answers read from the views, kept until the views change.

Reading an organization again costs most of a cheap request (a view transaction, two queries,
rows to dicts, JSON), while asking whether the views changed costs one cheap question:

- SQLite: `PRAGMA data_version` on a connection of its own, which never writes. Its value
  changes whenever any other connection commits to the file: this process's catch-ups, a
  `projections rebuild` switching tables, a projector in another process.
- PostgreSQL: every projection's position, and the identity of its live tables (a rebuild's
  switch-over replaces them), read in one prepared statement on a connection of its own;
  reads that arrive while it is asked share the next answer (SharedAnswers).

When the answer differs from the one the entries were read under, they are all dropped.
Read-your-writes holds: a command answers only once its events are in the views
(Runtime.settle), so that commit has changed the version before the client can read again.
The entries are bounded by an approximate size in bytes (least recently used go first).
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import psycopg
from cachetools import LRUCache
from psycopg import sql

from orgledger.projections.base import Projection
from orgledger.projections.store import ViewStore

T = TypeVar("T")

MAX_BYTES = 32 * 1024 * 1024
# A larger answer (a long organization list) is read each time rather than evict everything.
MAX_ENTRY_BYTES = 2 * 1024 * 1024
# What an entry that is not a response body (a caller, a role map) is taken to weigh.
OBJECT_BYTES = 1024

Version = Callable[[], Hashable]


def _weight(value: Any) -> int:
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, tuple):  # a body sent in chunks because it is too long to keep
        return sys.maxsize
    return OBJECT_BYTES


class ReadCache:
    """Values computed from the views, valid while the views' version stays the same."""

    def __init__(self, version: Version, max_bytes: int = MAX_BYTES,
                 max_entry_bytes: int = MAX_ENTRY_BYTES) -> None:
        self._version_now = version
        self._version: Hashable = object()  # equal to no version: the first fetch clears
        self._entries: LRUCache[Hashable, Any] = LRUCache(maxsize=max_bytes, getsizeof=_weight)
        # No entry may outweigh the whole cache (with max_bytes=0 nothing is kept).
        self._max_entry_bytes = min(max_entry_bytes, max_bytes)
        self._lock = threading.Lock()  # info reads on the event loop, the others in threads
        self.hits = self.misses = 0

    def fetch(self, key: Hashable, read: Callable[[], T]) -> T:
        """The value cached under `key` for the views as they are now, else `read()`."""
        version = self._version_now()
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version
            value = self._entries.get(key, _MISSING)
            if value is not _MISSING:
                self.hits += 1
                return value  # type: ignore[no-any-return]
            self.misses += 1
        # Read after taking the version, so the value is at least as new as that version.
        value = read()
        with self._lock:
            # Not if another request has seen the views change meanwhile: the value may be older.
            if version == self._version and _weight(value) <= self._max_entry_bytes:
                self._entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        with self._lock:
            self._entries.clear()
        close = getattr(self._version_now, "close", None)
        if close:
            close()


_MISSING = object()


def views_version(store: ViewStore, projections: Sequence[Projection]) -> Version:
    """The cheapest question that tells whether any of these views changed."""
    if store.postgres:
        return SharedAnswers(PostgresViewsVersion(store, projections))
    return SQLiteDataVersion(store.datastore.pool.db_name)


class SQLiteDataVersion:
    """`PRAGMA data_version` of a SQLite database, asked on a connection that never writes
    (the value ignores the asking connection's own commits)."""

    def __init__(self, db_name: str) -> None:
        self._connection = sqlite3.connect(db_name, uri=True, check_same_thread=False,
                                           isolation_level=None)
        self._cursor = self._connection.cursor()  # one cursor, not one per question
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self._cursor.execute("PRAGMA data_version").fetchone()[0]  # type: ignore[no-any-return]

    def close(self) -> None:
        self._connection.close()


class SharedAnswers:
    """One question in flight at a time, its answer shared by every caller that arrived before it
    was asked: concurrent reads cost one round trip, not one each in turn. A caller never takes
    the answer of a question asked before it arrived, which may predate a write it has seen."""

    def __init__(self, ask: Version) -> None:
        self._ask = ask
        self._changed = threading.Condition()
        self._asked = 0  # questions started
        self._answered = 0  # the latest question answered, and its answer
        self._answer: Hashable = None
        self._busy = False

    def __call__(self) -> Hashable:
        with self._changed:
            need = self._asked + 1  # the number of a question asked from now on
            while self._busy and self._answered < need:
                self._changed.wait()
            if self._answered >= need:
                return self._answer
            self._busy = True
            self._asked += 1
            mine = self._asked
        try:
            answer = self._ask()
        except BaseException:
            with self._changed:
                self._busy = False  # the waiters ask again themselves
                self._changed.notify_all()
            raise
        with self._changed:
            self._busy = False
            self._answered, self._answer = mine, answer
            self._changed.notify_all()
        return answer

    def close(self) -> None:
        close = getattr(self._ask, "close", None)
        if close:
            close()


APPLICATION_NAME = "orgledger views version"  # how pg_stat_activity names its connection


class PostgresViewsVersion:
    """The projections' positions and their live tables' identities, in one read.

    Asked on every cached read, so on a connection of its own: autocommit (each question sees
    what other processes have committed: a projector, a rebuild's switch-over, other workers),
    one prepared statement whose names are schema-qualified (no search_path to set), one round
    trip. It is opened at the first question, so processes that never read (a projector) hold
    none; when it breaks (a PostgreSQL restart) it is opened again once, and if that fails the
    error surfaces as any other read's would."""

    def __init__(self, store: ViewStore, projections: Sequence[Projection]) -> None:
        pool_kwargs = store.datastore.pool.kwargs or {}
        # Where the views' pool connects, without its dict rows: a tuple is all we compare.
        self._connect_kwargs = {k: v for k, v in pool_kwargs.items() if k != "row_factory"}
        schema = store.datastore.schema
        tables = [t for p in projections for t in p.t.values()]
        self._statement = sql.SQL(
            "SELECT (SELECT string_agg(name || '=' || position, ',' ORDER BY name) FROM {}), {}"
        ).format(
            sql.Identifier(schema, "projection_positions"),
            sql.SQL(", ").join(sql.SQL("to_regclass({})::oid").format(
                sql.Literal(sql.Identifier(schema).as_string() + "." + t)) for t in tables),
        ).as_string()  # rendered once: a Composed one would be rendered again at each question
        self._connection: psycopg.Connection[Any] | None = None
        self._cursor: psycopg.Cursor[Any]
        self._lock = threading.Lock()

    def __call__(self) -> Hashable:
        with self._lock:
            try:
                return self._ask()
            except psycopg.OperationalError:
                # Dropped under us (a restart, a terminated backend): once more, on a new one.
                self._close()
                return self._ask()

    def _ask(self) -> Hashable:
        if self._connection is None:
            self._connection = psycopg.connect(**self._connect_kwargs, autocommit=True,
                                               application_name=APPLICATION_NAME)
            self._cursor = self._connection.cursor()  # one cursor, not one per question
        return self._cursor.execute(self._statement, prepare=True).fetchone()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        with self._lock:
            self._close()
