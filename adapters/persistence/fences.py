"""Fences: a command that must not be overtaken holds off the appends conditioned on an aggregate.

Why: deleting an organization reads its member list, then saves the organization's deletion with
every membership's removal, on the condition that no member joined since the read (a member who
joined later would be left behind in a deleted organization). Joins only check that the
organization is unchanged, which it is until the delete commits. Under a steady stream of joins
one always lands between the delete's read and its save, so the delete lost every race and was
decided again, and again, until the stream stopped (23 s in one run).

So the delete fences the organization for the time from its read to its save: an append
conditioned on a fenced aggregate's version (a join, a member's update or removal, a key issued
for the organization) fails as `AggregateFenced` and is retried after a pause
(application/retry.py), by which time the delete has committed and the retry finds the
organization gone. Joins that were being written when the fence went up are committed before the
holder goes on, so its read sees them. The delete then wins at its first attempt.

A fence only decides who waits; correctness still rests on the append conditions alone. A fence
that could not be taken (another delete holds it for long) or that was lost lets the command go
on unfenced, which is merely slower under contention.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg

# How long a fencing command waits for another that holds one of its fences (PostgreSQL).
FENCE_WAIT = "2s"


class LocalFences:
    """Fences within one process, for the in-memory store (SQLite's are in sqlite_fences.py).

    `guard` is held by the writer of each batch of appends while it checks and commits them, so a
    fence goes up only between batches: no join checked before it can commit after it."""

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self._held: set[UUID] = set()

    def fenced(self, uid: UUID) -> bool:
        """Call with `guard` held."""
        return uid in self._held

    @contextmanager
    def hold(self, ids: Iterable[UUID]) -> Iterator[None]:
        with self.guard:
            mine = set(ids) - self._held  # a fence another command holds stays its own
            self._held |= mine
        try:
            yield
        finally:
            with self.guard:
                self._held -= mine


def fence_key(schema: str, uid: UUID) -> int:
    """The PostgreSQL advisory-lock key of an aggregate's fence: advisory locks are per database,
    so the schema is part of the key (as in adapters/postgres.lock_key)."""
    digest = hashlib.blake2b(f"orgledger:{schema}:fence:{uid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def hold_postgres_fences(datastore: Any, ids: Iterable[UUID]) -> Iterator[None]:
    """Exclusive session advisory locks, one per aggregate, held on a pooled connection.

    An append conditioned on the aggregate takes the same lock shared, with a try, inside its
    insert transaction (GuardedPostgresRecorder): it never waits there, so a batch that holds the
    events table never waits for a fence holder, whose own save needs that table. Waiting for the
    exclusive lock waits only for the batches in flight; once requested, PostgreSQL refuses new
    shared tries, so a stream of joins cannot hold it off."""
    keys = sorted({fence_key(datastore.schema, uid) for uid in ids})  # one order: no deadlock
    with datastore.get_connection() as conn:
        held = []
        try:
            for key in keys:
                try:
                    with conn.transaction():
                        conn.execute(f"SET LOCAL lock_timeout = '{FENCE_WAIT}'")
                        # Session-level: it outlives this transaction, until the unlock below.
                        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
                    held.append(key)
                except psycopg.errors.LockNotAvailable:
                    pass  # another delete of this organization is taking long: go on unfenced
            yield
        finally:
            try:
                for key in held:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            except psycopg.Error:
                conn.close()  # the pool drops a closed connection, and the server its locks
