"""Reads of the store for commands, cheaper than eventsourcing's one-by-one API (each recorder
mixes one of these in): the events of many aggregates in one query, so a command that looks up a
thousand users pays one round trip instead of a thousand; and the bare states of a range of the
log by topic, without building a Notification (and parsing a UUID) per row, which a delete's
scan of the log (application/cascade.py) and the audit log's stream (projections/log/reader.py)
would spend most of their time on."""

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
# (position, originator id as text, originator version, topic, state) of one event of the log.
Logged = tuple[int, str, int, str, bytes]


def _dashed(hex_id: str) -> str:
    """A UUID stored as 32 hex digits, in its usual text form, without building a UUID."""
    if len(hex_id) != 32:
        return hex_id
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


class POPOBatchReads:
    def select_events_of(self, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Each aggregate's events in version order; [] for those not in the store."""
        return {uid: list(self.select_events(uid)) for uid in ids}  # type: ignore[attr-defined]

    def select_states(self, after: int, stop: int, topics: Sequence[str], limit: int) -> list[State]:
        """Up to `limit` events of these topics after position `after`, up to `stop`, in log order."""
        page = self.select_notifications(  # type: ignore[attr-defined]
            start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False)
        return [(n.id, n.topic, n.state) for n in page]

    def select_log(self, after: int, stop: int, limit: int) -> list[Logged]:
        """Up to `limit` events after position `after`, up to `stop`, in log order."""
        page = self.select_notifications(  # type: ignore[attr-defined]
            start=after, limit=limit, stop=stop, inclusive_of_start=False)
        return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state) for n in page]


class SQLiteBatchReads:
    def select_events_of(self, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Each aggregate's events in version order; [] for those not in the store."""
        found: dict[UUID, list[StoredEvent]] = {}
        if not ids:
            return found  # without a transaction that reads nothing
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

    def select_log(self, after: int, stop: int, limit: int) -> list[Logged]:
        """Up to `limit` events after position `after`, up to `stop`, in log order."""
        table = self.events_table_name  # type: ignore[attr-defined]
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
                "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
                (after, stop, limit),
            )
            return [(row[0], _dashed(row[1]), row[2], row[3], bytes(row[4])) for row in c.fetchall()]


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

    def select_log(self, after: int, stop: int, limit: int) -> list[Logged]:
        """Up to `limit` events after position `after`, up to `stop`, in log order."""
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{} "
            "WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id LIMIT %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))  # type: ignore[attr-defined]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:  # type: ignore[attr-defined]
            curs.execute(statement, (after, stop, limit))
            return [(row["notification_id"], str(row["originator_id"]), row["originator_version"],
                     row["topic"], bytes(row["state"])) for row in curs.fetchall()]
