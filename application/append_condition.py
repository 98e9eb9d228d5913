"""Append conditions: a save that fails, as a conflict, when what it was decided on has changed.

Both backends serialise appends (SQLite has one writer; PostgreSQL locks the events table),
so a check made inside the insert transaction sees every earlier commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, ProgrammingError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier


class AppendConditionFailed(IntegrityError):
    """Raised when a save's append condition no longer holds (retry the command)."""


@dataclass(frozen=True)
class AppendCondition:
    """`versions`: aggregates that must still be at these versions (0 = must not exist).
    `quiet_after`/`quiet_topics`: no event of these topics may have been stored after that position."""

    versions: dict[UUID, int] = field(default_factory=dict)
    quiet_after: int | None = None
    quiet_topics: tuple[str, ...] = ()

    def fail(self, why: str) -> None:
        raise AppendConditionFailed(f"append condition failed: {why}")


class GuardedPOPORecorder(POPOApplicationRecorder):
    def _insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        with self._database_lock:
            condition: AppendCondition | None = kwargs.get("condition")
            if condition:
                for uid, version in condition.versions.items():
                    if max(self._stored_events_index[str(uid)], default=0) != version:
                        condition.fail(f"{uid} changed")
                if condition.quiet_after is not None:
                    for s in self._stored_events[condition.quiet_after :]:
                        if s.topic in condition.quiet_topics:
                            condition.fail(f"{s.topic} after {condition.quiet_after}")
            return super()._insert_events(stored_events, **kwargs)


class GuardedPOPOFactory(POPOFactory):
    """Builds the guarded recorder: eventsourcing 9.5.6's POPO factory ignores
    APPLICATION_RECORDER_TOPIC, so without this the conditions were never checked on POPO."""

    def application_recorder(self) -> GuardedPOPORecorder:
        return GuardedPOPORecorder()


class GuardedSQLiteRecorder(SQLiteApplicationRecorder):
    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        condition: AppendCondition | None = kwargs.get("condition")
        if condition:
            for uid, version in condition.versions.items():
                c.execute(
                    f"SELECT MAX(originator_version) FROM {self.events_table_name} "
                    "WHERE originator_id=?",
                    (uid.hex,),
                )
                if (c.fetchone()[0] or 0) != version:
                    condition.fail(f"{uid} changed")
            if condition.quiet_after is not None and condition.quiet_topics:
                marks = ",".join("?" * len(condition.quiet_topics))
                c.execute(
                    f"SELECT 1 FROM {self.events_table_name} "
                    f"WHERE rowid > ? AND topic IN ({marks}) LIMIT 1",
                    (condition.quiet_after, *condition.quiet_topics),
                )
                if c.fetchone():
                    condition.fail(f"new events after {condition.quiet_after}")
        return super()._insert_events(c, stored_events, **kwargs)


class GuardedPostgresRecorder(PostgresApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        if kwargs.get("condition") and self.datastore.enable_db_functions:
            # The insert function writes in one round trip and would skip the check below.
            raise ProgrammingError("append conditions need POSTGRES_ENABLE_DB_FUNCTIONS off")
        return super().insert_events(stored_events, **kwargs)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        condition: AppendCondition | None = kwargs.get("condition")
        if condition:
            # The table lock first: the check must see every append committed before ours.
            self._lock_table(curs)
            table = SQL("{}.{}").format(
                Identifier(self.datastore.schema), Identifier(self.events_table_name)
            )
            for uid, version in condition.versions.items():
                curs.execute(
                    SQL("SELECT MAX(originator_version) AS v FROM {} WHERE originator_id=%s").format(table),
                    (uid,),
                )
                if (curs.fetchone()["v"] or 0) != version:
                    condition.fail(f"{uid} changed")
            if condition.quiet_after is not None and condition.quiet_topics:
                curs.execute(
                    SQL("SELECT 1 AS x FROM {} WHERE notification_id > %s AND topic = ANY(%s) LIMIT 1").format(table),
                    (condition.quiet_after, list(condition.quiet_topics)),
                )
                if curs.fetchone():
                    condition.fail(f"new events after {condition.quiet_after}")
        super()._insert_stored_events(curs, stored_events, **kwargs)
