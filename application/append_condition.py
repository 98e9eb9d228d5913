"""Append conditions: a save that fails, as a conflict, when what it was decided on has changed.

The rule lives here; the recorders that check it inside their insert transaction live in
adapters/persistence (every store serialises appends, so the check sees every earlier commit)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent


@runtime_checkable
class GuardedRecorder(Protocol):
    """A recorder that checks each save's `condition` (an AppendCondition) before it inserts,
    fences aggregates for a command in progress, and reads what commands need in bulk."""

    guards_append_conditions: bool

    def select_events_of(self, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Each aggregate's events in version order; [] for those not in the store."""

    def select_states(self, after: int, stop: int, topics: Sequence[str],
                      limit: int) -> list[tuple[int, str, bytes]]:
        """(position, topic, state) of up to `limit` events of these topics after position
        `after`, up to `stop`, in log order."""


class AppendConditionFailed(IntegrityError):
    """Raised when a save's append condition no longer holds (retry the command)."""


class AggregateFenced(AppendConditionFailed):
    """Raised when an aggregate the append is conditioned on is fenced by a command in progress
    (an organization being deleted): retry once that command is done (fences.py)."""


def _unfenced(uid: UUID) -> bool:
    return False


@dataclass(frozen=True)
class AppendCondition:
    """`versions`: aggregates that must still be at these versions (0 = must not exist).
    `quiet_after`/`quiet_topics`: no event of these topics may have been stored after that
    position — of those, only the ones `quiet_match` picks, when it is given (so that joins to
    other organizations do not abort an organization's delete)."""

    versions: dict[UUID, int] = field(default_factory=dict)
    quiet_after: int | None = None
    quiet_topics: tuple[str, ...] = ()
    quiet_match: Callable[[StoredEvent], bool] | None = None

    def check(
        self,
        latest_version: Callable[[UUID], int | None],
        events_after: Callable[[int, tuple[str, ...]], Iterable[StoredEvent]],
        fenced: Callable[[UUID], bool] = _unfenced,
    ) -> None:
        """Raise AppendConditionFailed unless the condition holds; called inside the insert.
        `fenced` is asked after `latest_version`, for the same aggregate."""
        for uid, version in self.versions.items():
            if (latest_version(uid) or 0) != version:
                self.fail(f"{uid} changed")
            if fenced(uid):
                raise AggregateFenced(f"append condition: {uid} is fenced by a command in progress")
        if self.quiet_after is not None and self.quiet_topics:
            for stored in events_after(self.quiet_after, self.quiet_topics):
                if self.quiet_match is None or self.quiet_match(stored):
                    self.fail(f"{stored.topic} after position {self.quiet_after}")

    def fail(self, why: str) -> None:
        raise AppendConditionFailed(f"append condition failed: {why}")


