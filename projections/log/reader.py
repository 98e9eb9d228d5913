"""The event store read directly, page by page: what the audit commands stream and replay.

Events are decoded as plain JSON (not into classes), so the log stays readable even when a
projection, or an event class, is broken."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from orgledger.projections.audit_entries import BOOKKEEPING

PAGE_SIZE = 1000
# Fields of the stored JSON that belong to the envelope, not to what happened.
ENVELOPE = frozenset({"timestamp", "actor", "originator_topic", "class_version"})


class LoggedEvent:
    """One event of the log as stored: its JSON decoded into plain values, and what the audit
    commands show of it, worked out once (a filtered `audit log` asks for each more than once)."""

    __slots__ = ("position", "originator_id", "originator_version", "topic", "state", "type",
                 "aggregate", "payload", "_stored")

    def __init__(self, position: int, originator_id: str, originator_version: int, topic: str,
                 stored_state: bytes, state: dict[str, Any]) -> None:
        self.position = position
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.topic = topic
        self.state = state
        self._stored = stored_state
        self.type = topic.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
        self.aggregate = topic.split(":", 1)[-1].split(".", 1)[0]
        self.payload = {k: v for k, v in state.items() if k not in ENVELOPE}

    @property
    def stored(self) -> StoredEvent:
        """The event as the store holds it, for the application's mapper to decode."""
        return StoredEvent(originator_id=UUID(self.originator_id), originator_version=self.originator_version,
                           topic=self.topic, state=self._stored)

    @property
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(self.state["timestamp"]).astimezone(UTC)

    @property
    def iso_timestamp(self) -> str:
        stored = self.state["timestamp"]
        if len(stored) == 27 and stored[19] == "." and stored[-1] == "Z":
            return stored  # msgspec's UTC form with microseconds is this shape already
        return self.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    @property
    def actor(self) -> dict[str, Any]:
        return self.state.get("actor") or {}

    def as_line(self) -> dict[str, Any]:
        """The `audit log --format jsonl` line."""
        return {"timestamp": self.iso_timestamp, "type": self.type,
                "actor": self.actor.get("user_id"), "payload": self.payload}


def head(app: Any) -> int:
    return app.recorder.max_notification_id() or 0


def stream(app: Any, *, start: int = 0, stop: int | None = None,
           page_size: int = PAGE_SIZE) -> Iterator[LoggedEvent]:
    """Every event after `start` up to `stop` (default: the head when called), in log order;
    one page in memory at a time."""
    stop = head(app) if stop is None else stop
    while start < stop:
        # Rows, not eventsourcing's Notifications: parsing each id into a UUID cost more than
        # decoding the event.
        page = app.recorder.select_log(start, stop, page_size)
        if not page:
            return
        decode = app.mapper.decode_state
        for position, originator_id, version, topic, state in page:
            yield LoggedEvent(position, originator_id, version, topic, state, decode(state))
        start = page[-1][0]


@dataclass(frozen=True)
class LogFilter:
    """`audit log` filters, combined with AND."""

    organization_id: str | None = None
    user_id: str | None = None
    changed_by: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matcher(self, app: Any, stop: int) -> Callable[[LoggedEvent], bool]:
        budgets = self._budgets(app, stop) if self.organization_id is not None else set()

        def matches(e: LoggedEvent) -> bool:
            p = e.payload
            if self.organization_id is not None and p.get("organization_id") != self.organization_id:
                if not (e.aggregate == "Budget" and p.get("budget_id") in budgets):
                    return False
            if self.user_id is not None and p.get("user_id") != self.user_id:
                return False
            if self.changed_by is not None and e.actor.get("user_id") != self.changed_by:
                return False
            if self.since is not None and e.timestamp < self.since:
                return False
            return not (self.until is not None and e.timestamp > self.until)

        return matches

    def _budgets(self, app: Any, stop: int) -> set[str]:
        """The organization's budget and its members' budgets. A budget is created just before the
        event that links it, so a first pass finds them all; only their ids stay in memory."""
        found: set[str] = set()
        for e in stream(app, stop=stop):
            p = e.payload
            if p.get("organization_id") == self.organization_id and p.get("budget_id"):
                found.add(p["budget_id"])
        return found


def filtered(app: Any, log_filter: LogFilter) -> Iterator[LoggedEvent]:
    """What `audit log` shows: every event but the index bookkeeping the audit trail leaves
    out (an export, a copy of the log, keeps it)."""
    stop = head(app)
    events = (e for e in stream(app, stop=stop) if e.aggregate not in BOOKKEEPING)
    if log_filter == LogFilter():
        return events
    matches = log_filter.matcher(app, stop)
    return (e for e in events if matches(e))


def subject(e: LoggedEvent) -> str:
    """The natural keys an event names, for the table format."""
    keys = ("organization_id", "user_id", "budget_id", "token", "token_hash")
    return " ".join(f"{k}={e.payload[k]}" for k in keys if e.payload.get(k) is not None)
