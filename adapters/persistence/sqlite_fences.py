"""Fences on SQLite (fences.py says why a delete fences), held across processes.

`serve --workers N` puts several processes on one events.db, so a fence in one process's memory
would not hold off a join written by another. Here a fence is a row in a table of events.db
itself: it is put up and taken down in write transactions, which SQLite serialises with every
batch of appends of every process, and an append's check reads it inside its own batch
transaction. So, as with the in-process fences, a fence goes up only between batches: no join
checked before it can commit after it.

A process that dies while holding a fence cannot take its row down; the row lapses after
LEASE_SECONDS instead, and until then joins to that organization wait, as they would for a slow
delete (a fence decides only who waits; the append conditions alone keep the log correct).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import UUID

log = logging.getLogger("orgledger.fences")

TABLE = "orgledger_fences"
FENCES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(originator_id TEXT PRIMARY KEY, holder TEXT NOT NULL, expires REAL NOT NULL)"
)
# Longer than any delete takes from its read to its save (its request's deadline is 10 s by
# default); shorter than the time a join waits for a fence (application/retry.FENCE_PATIENCE).
LEASE_SECONDS = 15.0


class SQLiteFences:
    def __init__(self, datastore: Any, write_turn: Callable[[], AbstractContextManager[None]],
                 clock: Callable[[], float] = time.time) -> None:
        self.datastore = datastore
        self.write_turn = write_turn
        # Wall-clock time: the processes that read a lease's expiry share the machine's clock.
        self.clock = clock

    def fenced(self, c: Any, uid: UUID) -> bool:
        """Inside an append's batch transaction, which holds the write lock."""
        c.execute(f"SELECT 1 FROM {TABLE} WHERE originator_id=? AND expires>?", (uid.hex, self.clock()))
        return c.fetchone() is not None

    @contextmanager
    def hold(self, ids: Iterable[UUID]) -> Iterator[None]:
        holder = uuid.uuid4().hex
        try:
            self._write(lambda c: self._put_up(c, holder, sorted(set(ids))))
        except Exception as e:  # a fence only decides who waits: go on unfenced
            log.warning("could not fence %s: %s", ", ".join(str(i) for i in ids), e)
        try:
            yield
        finally:
            try:
                self._write(lambda c: c.execute(f"DELETE FROM {TABLE} WHERE holder=?", (holder,)))
            except Exception as e:  # the lease ends it
                log.warning("could not take down a fence (it lapses in %g s): %s", LEASE_SECONDS, e)

    def _put_up(self, c: Any, holder: str, ids: list[UUID]) -> None:
        now = self.clock()
        for uid in ids:
            # A fence another command holds stays its own; one whose holder died is taken over.
            c.execute(
                f"INSERT INTO {TABLE} (originator_id, holder, expires) VALUES (?, ?, ?) "
                f"ON CONFLICT (originator_id) DO UPDATE SET holder=excluded.holder, "
                f"expires=excluded.expires WHERE {TABLE}.expires<=?",
                (uid.hex, holder, now + LEASE_SECONDS, now),
            )

    def _write(self, statements: Callable[[Any], Any]) -> None:
        with self.write_turn(), self.datastore.get_connection(commit=True) as conn:
            c = conn.cursor()
            try:
                c.execute("BEGIN IMMEDIATE")
                try:
                    statements(c)
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
            finally:
                c.sqlite_cursor.close()
