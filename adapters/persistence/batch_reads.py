"""The events of many aggregates in one read of the store: a command that looks up a thousand
users pays one round trip instead of a thousand (each recorder below mixes one of these in)."""

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


class POPOBatchReads:
    def select_events_of(self, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Each aggregate's events in version order; [] for those not in the store."""
        return {uid: list(self.select_events(uid)) for uid in ids}  # type: ignore[attr-defined]


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
