"""The event store read directly, page by page: what the audit commands stream and replay.

Events are decoded as plain JSON (not into classes), so the log stays readable even when a
projection, or an event class, is broken."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from orgledger.projections.audit_entries import BOOKKEEPING

PAGE_SIZE = 1000
# Fields of the stored JSON that belong to the envelope, not to what happened.
ENVELOPE = frozenset({"timestamp", "actor", "originator_topic", "class_version"})


@dataclass(frozen=True)
class LoggedEvent:
    position: int
    originator_id: str
    originator_version: int
    topic: str
    state: dict[str, Any]
    notification: Any

    @property
    def type(self) -> str:
        return self.topic.rsplit(".", 1)[-1].rsplit(":", 1)[-1]

    @property
    def aggregate(self) -> str:
        return self.topic.split(":", 1)[-1].split(".", 1)[0]

    @property
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(self.state["timestamp"]).astimezone(UTC)

    @property
    def iso_timestamp(self) -> str:
        return self.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    @property
    def actor(self) -> dict[str, Any]:
        return self.state.get("actor") or {}

    @property
    def payload(self) -> dict[str, Any]:
        return {k: v for k, v in self.state.items() if k not in ENVELOPE}

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
        page = app.recorder.select_notifications(
            start=start, limit=page_size, stop=stop, inclusive_of_start=False
        )
        if not page:
            return
        for n in page:
            yield LoggedEvent(n.id, str(n.originator_id), n.originator_version, n.topic,
                              app.mapper.decode_state(n.state), n)
        start = page[-1].id


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
    matches = log_filter.matcher(app, stop)
    return (e for e in stream(app, stop=stop) if e.aggregate not in BOOKKEEPING and matches(e))


def subject(e: LoggedEvent) -> str:
    """The natural keys an event names, for the table format."""
    keys = ("organization_id", "user_id", "budget_id", "token", "token_hash")
    return " ".join(f"{k}={e.payload[k]}" for k in keys if e.payload.get(k) is not None)
