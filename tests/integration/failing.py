"""Events that a projection cannot apply, for the tests of how such failures are reported."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.persistence import StoredEvent

from orgledger.adapters.runtime import Runtime
from orgledger.projections.base import Projection
from orgledger.projections.store import Cursor

POISON = "poison"


class Tripwire(Projection):
    """A view that fails on the creation of the organization "poison" while `armed`, as a view
    with a defect would (its handler raises; nothing is mocked)."""

    name = "tripwire"
    table_names = ("tripwire",)

    def __init__(self, prefix: str = "") -> None:
        super().__init__(prefix)
        self.armed = True

    def ddl(self) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS {tripwire} (position BIGINT PRIMARY KEY)"]

    def apply(self, event: Any, cur: Cursor, position: int) -> None:  # type: ignore[override]
        if self.armed and type(event).__name__ == "OrgCreated" and event.organization_id == POISON:
            raise RuntimeError("tripwire: the poisoned organization")
        cur.insert(f"INSERT INTO {self.t['tripwire']} VALUES (?)", (position,))


def add_tripwire(runtime: Runtime) -> Tripwire:
    tripwire = Tripwire()
    runtime.projector.projections.append(tripwire)
    runtime.projector.create_tables()
    return tripwire


def append_unreadable_event(runtime: Runtime) -> int:
    """A stored event whose topic names no class (written by other means, or by a version that
    had it): no projection can even decode it. Returns its position."""
    runtime.ledger.recorder.insert_events([StoredEvent(
        originator_id=uuid.uuid4(), originator_version=1, topic="orgledger.gone:Vanished.Happened",
        state=b"{}")])
    return runtime.ledger.recorder.max_notification_id() or 0
