"""The event store's recorders for POPO, SQLite and PostgreSQL: each checks a save's append
condition inside its insert transaction (the SQLite and PostgreSQL ones write concurrent appends
in one transaction, one savepoint per append: a later append's check sees the earlier ones of
its batch), leaves out appends whose caller gave up, fences aggregates for a delete, and reads
the events of many aggregates at once (batch_reads.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

import sqlite3

import psycopg
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Identifier

from orgledger.application.append_condition import AppendCondition
from orgledger.application.deadline import DeadlineExceeded, OutcomeUnknown

from orgledger.adapters.persistence.batch_reads import POPOBatchReads, PostgresBatchReads, SQLiteBatchReads
from orgledger.adapters.persistence.fences import LocalFences, fence_key, hold_postgres_fences
from orgledger.adapters.persistence.sqlite_fences import FENCES_DDL, SQLiteFences
from orgledger.adapters.persistence.thread_connections import ThreadConnections
from orgledger.adapters.persistence.write_turn import WriteTurn
from orgledger.adapters.persistence.group_commit import Append, GroupCommit


class GuardedPOPORecorder(POPOBatchReads, POPOApplicationRecorder):
    guards_append_conditions = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fences = LocalFences()

    def fence(self, ids: Iterable[UUID]) -> AbstractContextManager[None]:
        return self.fences.hold(ids)

    def _insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        with self._database_lock, self.fences.guard:
            _claim(kwargs)
            condition: AppendCondition | None = kwargs.get("condition")
            if condition:
                condition.check(
                    lambda uid: max(self._stored_events_index[str(uid)], default=0),
                    lambda after, topics: (s for s in self._stored_events[after:] if s.topic in topics),
                    self.fences.fenced,
                )
            return super()._insert_events(stored_events, **kwargs)


class GuardedPOPOFactory(POPOFactory):
    """Builds the guarded recorder: eventsourcing 9.5.6's POPO factory ignores
    APPLICATION_RECORDER_TOPIC, so without this the conditions were never checked on POPO."""

    def application_recorder(self) -> GuardedPOPORecorder:
        return GuardedPOPORecorder()


def _stored(row: Any, originator_id: UUID | str) -> StoredEvent:
    return StoredEvent(
        originator_id=originator_id,
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


class GuardedSQLiteRecorder(SQLiteBatchReads, SQLiteApplicationRecorder):
    guards_append_conditions = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pool = self.datastore.pool
        if not isinstance(pool, ThreadConnections):
            self.datastore.pool = ThreadConnections(db_name=pool.db_name, lock_timeout=pool.lock_timeout)
            pool.close()
        self.group = GroupCommit(self.write_batch)
        self.write_turn = WriteTurn(self.datastore.pool.db_name)
        # In the database, not in memory: `serve --workers N` writes from several processes.
        self.fences = SQLiteFences(self.datastore, self.write_turn)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), FENCES_DDL]

    def fence(self, ids: Iterable[UUID]) -> AbstractContextManager[None]:
        return self.fences.hold(ids)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        return self.group.append(stored_events, kwargs)

    def write_batch(self, batch: list[Append]) -> None:
        """Every append in one transaction, each in a savepoint of its own (group_commit.py)."""
        with self.write_turn(), self.datastore.get_connection(commit=True) as conn:
            c = conn.cursor()
            try:
                self._write_appends(c, batch)
            except BaseException as e:
                conn.rollback()
                c.sqlite_cursor.close()
                _release(batch)
                raise _translated(e) from e
            try:
                conn.commit()
            except BaseException as e:
                raise OutcomeUnknown(f"the commit failed: {e}") from e
            finally:
                c.sqlite_cursor.close()

    def _write_appends(self, c: Any, batch: list[Append]) -> None:
        # IMMEDIATE: the write lock before the first condition check reads, so that another
        # process's commit (a worker's, or a fence's) cannot make this transaction's snapshot stale.
        c.execute("BEGIN IMMEDIATE")
        for append in _claimed(batch):
            c.execute("SAVEPOINT append")
            try:
                append.ids = self._insert_events(c, append.events, **append.kwargs)
            except Exception as e:
                c.execute("ROLLBACK TO append")
                append.error = _translated(e)
            c.execute("RELEASE append")

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        condition: AppendCondition | None = kwargs.get("condition")
        if condition:
            table = self.events_table_name

            def latest_version(uid: UUID) -> int | None:
                c.execute(f"SELECT MAX(originator_version) FROM {table} WHERE originator_id=?", (uid.hex,))
                return c.fetchone()[0]

            def events_after(after: int, topics: tuple[str, ...]) -> list[StoredEvent]:
                marks = ",".join("?" * len(topics))
                c.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {table} "
                    f"WHERE rowid > ? AND topic IN ({marks}) ORDER BY rowid",
                    (after, *topics),
                )
                return [_stored(r, UUID(r["originator_id"])) for r in c.fetchall()]

            condition.check(latest_version, events_after, lambda uid: self.fences.fenced(c, uid))
        return super()._insert_events(c, stored_events, **kwargs)


class GuardedPostgresRecorder(PostgresBatchReads, PostgresApplicationRecorder):
    guards_append_conditions = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = GroupCommit(self.write_batch)

    def fence(self, ids: Iterable[UUID]) -> AbstractContextManager[None]:
        return hold_postgres_fences(self.datastore, ids)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        if kwargs.get("condition") and self.datastore.enable_db_functions:
            # The insert function writes in one round trip and would skip the check below.
            raise ProgrammingError("append conditions need POSTGRES_ENABLE_DB_FUNCTIONS off")
        return self.group.append(stored_events, kwargs)

    def write_batch(self, batch: list[Append]) -> None:
        """Every append in one transaction, each in a savepoint of its own (group_commit.py).

        Not retried here: a batch that failed before its commit was sent is retried by each
        command on fresh state (retry.py), within its deadline; one whose commit was sent and
        not answered may have committed, and is reported as such (OutcomeUnknown)."""
        sent = False
        try:
            with self.datastore.get_connection() as conn:
                with conn.transaction(), conn.cursor() as curs:
                    # The table lock first: the checks must see every append committed before
                    # ours. It also keeps notification ids in commit order (eventsourcing's
                    # _lock_table).
                    self._lock_table(curs)
                    self._notify_channel(curs)
                    for append in _claimed(batch):
                        try:
                            with conn.transaction():  # a savepoint
                                append.ids = self._insert_append(curs, append.events, **append.kwargs)
                        except Exception as e:
                            append.error = _translated(e)
                    sent = True  # leaving the block sends COMMIT
        except OutcomeUnknown:
            raise
        except BaseException as e:
            if sent:
                raise OutcomeUnknown(f"the connection failed during the commit: {e}") from e
            _release(batch)
            raise

    def _insert_append(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        condition: AppendCondition | None = kwargs.get("condition")
        if condition:
            table = SQL("{}.{}").format(
                Identifier(self.datastore.schema), Identifier(self.events_table_name)
            )

            free: dict[UUID, bool] = {}

            def latest_version(uid: UUID) -> int | None:
                # The fence's shared lock in the same round trip; never waits (fences.py).
                curs.execute(
                    SQL("SELECT MAX(originator_version) AS v, pg_try_advisory_xact_lock_shared(%s) AS free"
                        " FROM {} WHERE originator_id=%s").format(table),
                    (fence_key(self.datastore.schema, uid), uid),
                )
                row = curs.fetchone()
                free[uid] = row["free"]
                return row["v"]

            def events_after(after: int, topics: tuple[str, ...]) -> list[StoredEvent]:
                curs.execute(
                    SQL("SELECT originator_id, originator_version, topic, state FROM {} "
                        "WHERE notification_id > %s AND topic = ANY(%s) ORDER BY notification_id").format(table),
                    (after, list(topics)),
                )
                return [_stored(r, r["originator_id"]) for r in curs.fetchall()]

            condition.check(latest_version, events_after, lambda uid: not free[uid])
        if not stored_events:
            return []
        # The plain INSERT ... RETURNING; the lock and NOTIFY were issued once for the batch.
        PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events)
        return self._fetch_ids_after_insert_events(curs, stored_events)


def _claim(kwargs: dict[str, Any]) -> None:
    """Refuse to write for a caller that has already given up (deadline.py)."""
    deadline = kwargs.get("deadline")
    if deadline is not None and not deadline.claim():
        raise DeadlineExceeded("the request's deadline passed before it was written")


def _claimed(batch: list[Append]) -> list[Append]:
    """The appends still wanted, each claimed; the others get DeadlineExceeded."""
    wanted = []
    for append in batch:
        append.ids, append.error = None, None
        try:
            _claim(append.kwargs)
            wanted.append(append)
        except DeadlineExceeded as e:
            append.error = e
    return wanted


def _release(batch: list[Append]) -> None:
    """Nothing of this batch was committed: its callers may give up again."""
    for append in batch:
        if (deadline := append.kwargs.get("deadline")) is not None:
            deadline.release()


# The drivers' errors as eventsourcing raises them: a unique violation is a conflict
# (RecordConflictError), which the command retries on fresh state.
_DRIVER_ERRORS: tuple[tuple[type[Exception], type[Exception]], ...] = (
    (sqlite3.IntegrityError, IntegrityError),
    (psycopg.IntegrityError, IntegrityError),
    (sqlite3.OperationalError, OperationalError),
    (psycopg.OperationalError, OperationalError),
    (sqlite3.InterfaceError, InterfaceError),
    (psycopg.InterfaceError, InterfaceError),
    (sqlite3.DataError, DataError),
    (psycopg.DataError, DataError),
    (sqlite3.InternalError, InternalError),
    (psycopg.InternalError, InternalError),
    (sqlite3.ProgrammingError, ProgrammingError),
    (psycopg.ProgrammingError, ProgrammingError),
    (sqlite3.DatabaseError, DatabaseError),
    (psycopg.DatabaseError, DatabaseError),
)


def _translated(error: BaseException) -> BaseException:
    for driver, ours in _DRIVER_ERRORS:
        if isinstance(error, driver):
            translated = ours(str(error))
            translated.__cause__ = error
            return translated
    return error

