"""Reads of the store for commands, cheaper than eventsourcing's one-by-one API (each recorder
mixes one of these in): the events of many aggregates in one query, so a command that looks up a
thousand users pays one round trip instead of a thousand; and the bare states of a range of the
log by topic, without building a Notification (and parsing a UUID) per row, which a delete's
scan of the log (application/cascade.py) would spend most of its time on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Identifier

# Bound parameters per statement, well under SQLite's limit (32,766).
CHUNK = 500


def _grouped(ids: Sequence[UUID], rows: Any, originator: Any) -> dict[UUID, list[StoredEvent]]:
    found: dict[UUID, list[StoredEvent]] = {uid: [] for uid in ids}
    for row in rows:
        uid = originator(row["originator_id"])
        found[uid].append(StoredEvent(originator_id=uid, originator_version=row["originator_version"],
                                      topic=row["topic"], state=bytes(row["state"])))
    return found


# (position, topic, state) of one event of the log.
State = tuple[int, str, bytes]


class POPOBatchReads:
    def select_events_of(self, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Each aggregate's events in version order; [] for those not in the store."""
        return {uid: list(self.select_events(uid)) for uid in ids}  # type: ignore[attr-defined]

    def select_states(self, after: int, stop: int, topics: Sequence[str], limit: int) -> list[State]:
        """Up to `limit` events of these topics after position `after`, up to `stop`, in log order."""
        page = self.select_notifications(  # type: ignore[attr-defined]
            start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False)
        return [(n.id, n.topic, n.state) for n in page]


class SQLiteBatchReads:
    def select_events_of(self, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Each aggregate's events in version order; [] for those not in the store."""
        found: dict[UUID, list[StoredEvent]] = {}
        table = self.events_table_name  # type: ignore[attr-defined]
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start:start + CHUNK]
                c.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {table} WHERE "
                    f"originator_id IN ({','.join('?' * len(chunk))}) ORDER BY originator_id, originator_version",
                    [uid.hex for uid in chunk],
                )
                found.update(_grouped(chunk, c.fetchall(), UUID))
        return found

    def select_states(self, after: int, stop: int, topics: Sequence[str], limit: int) -> list[State]:
        """Up to `limit` events of these topics after position `after`, up to `stop`, in log order."""
        table = self.events_table_name  # type: ignore[attr-defined]
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            c.execute(
                f"SELECT rowid, topic, state FROM {table} WHERE rowid > ? AND rowid <= ? "
                f"AND topic IN ({','.join('?' * len(topics))}) ORDER BY rowid LIMIT ?",
                (after, stop, *topics, limit),
            )
            return [(row[0], row[1], bytes(row[2])) for row in c.fetchall()]


class PostgresBatchReads:
    def select_events_of(self, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Each aggregate's events in version order; [] for those not in the store."""
        if not ids:
            return {}
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {}.{} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))  # type: ignore[attr-defined]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:  # type: ignore[attr-defined]
            curs.execute(statement, (list(ids),))
            return _grouped(ids, curs.fetchall(), lambda uid: uid)

    def select_states(self, after: int, stop: int, topics: Sequence[str], limit: int) -> list[State]:
        """Up to `limit` events of these topics after position `after`, up to `stop`, in log order."""
        statement = SQL(
            "SELECT notification_id, topic, state FROM {}.{} WHERE notification_id > %s "
            "AND notification_id <= %s AND topic = ANY(%s) ORDER BY notification_id LIMIT %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))  # type: ignore[attr-defined]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:  # type: ignore[attr-defined]
            curs.execute(statement, (after, stop, list(topics), limit))
            return [(row["notification_id"], row["topic"], bytes(row["state"])) for row in curs.fetchall()]
