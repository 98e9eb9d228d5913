"""SQL access for the read models: one small cursor interface over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import msgspec
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

_json_encoder = msgspec.json.Encoder()


def to_json(value: Any) -> str | None:
    return None if value is None else _json_encoder.encode(value).decode()


def from_json(text: str | None) -> Any:
    return None if text is None else msgspec.json.decode(text)


class Cursor:
    """Statements are written with `?` placeholders; PostgreSQL gets `%s`."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw = raw
        self.postgres = postgres

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Cursor:
        if self.postgres:
            statement = statement.replace("%", "%%").replace("?", "%s")
        self.raw.execute(statement, tuple(params))
        return self

    def insert(self, statement: str, params: Sequence[Any]) -> None:
        """A write that may wait for the end of the batch (see BatchCursor); here it runs now."""
        self.execute(statement, params)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.postgres:
            statement = statement.replace("%", "%%").replace("?", "%s")
        self.raw.executemany(statement, [tuple(r) for r in rows])

    def one(self) -> dict[str, Any] | None:
        row = self.raw.fetchone()
        return None if row is None else dict(row)

    def all(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.raw.fetchall()]


class ViewStore:
    """Where the read models live: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore) -> None:
        self.datastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
        if not self.postgres:
            with self._sqlite_write() if commit else self._sqlite_read() as cur:
                yield cur
            return
        with self.datastore.transaction(commit=commit) as raw:
            if self.postgres:
                raw.execute(f'SET LOCAL search_path TO "{self.datastore.schema or "public"}"')
            yield Cursor(raw, self.postgres)

    @contextmanager
    def _sqlite_write(self) -> Iterator[Cursor]:
        # BEGIN IMMEDIATE takes the write lock before the first read. With a plain BEGIN, a writer
        # whose snapshot another process (a rebuild) has since committed past cannot upgrade to
        # writing and fails at once with "database is locked" instead of waiting its turn.
        with self.datastore.get_connection(commit=True) as conn:
            raw = conn.cursor()
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield Cursor(raw, False)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def _sqlite_read(self) -> Iterator[Cursor]:
        # What the datastore's transaction(commit=False) does, without its three context-manager
        # layers: a read is most of what a cheap request costs.
        with self.datastore.get_connection(commit=False) as conn:
            raw = conn.cursor()
            raw.execute("BEGIN")
            try:
                yield Cursor(raw, False)
            finally:
                conn.rollback()
                raw.sqlite_cursor.close()

    def close(self) -> None:
        self.datastore.close()
