"""A request's deadline, and the moment past which it can no longer be called off.

A caller that gives up must never have its change committed afterwards. So the writer claims
each append right before it writes it: once claimed, the caller waits for the commit's outcome;
once called off, the writer leaves the append out. Exactly one of the two wins."""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar

from eventsourcing.persistence import PersistenceError


class DeadlineExceeded(Exception):
    """The request ran out of time before anything was written: nothing was applied."""


class OutcomeUnknown(PersistenceError):
    """The commit was sent but its answer was lost (the database went away mid-commit)."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._state = "open"  # "open" → "claimed" (being written) or "called off"

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def claim(self) -> bool:
        """The writer is about to write this request's events: False if the caller gave up."""
        with self._lock:
            if self._state == "called off":
                return False
            self._state = "claimed"
            return True

    def release(self) -> None:
        """The write failed before its commit was sent: the caller may give up again."""
        with self._lock:
            if self._state == "claimed":
                self._state = "open"

    @property
    def called_off(self) -> bool:
        return self._state == "called off"

    def call_off(self) -> bool:
        """The caller gives up: True unless a write is under way (then wait for its outcome)."""
        with self._lock:
            if self._state == "claimed":
                return False
            self._state = "called off"
            return True


# The deadline of the request this thread is serving (None outside a request: CLI, tests).
current_deadline: ContextVar[Deadline | None] = ContextVar("current_deadline", default=None)


def check_deadline() -> None:
    """Raise DeadlineExceeded once the current request's time is up (before retrying, say)."""
    deadline = current_deadline.get()
    if deadline is not None and (deadline.expired() or deadline.called_off):
        raise DeadlineExceeded("the request's deadline passed before it could be applied")
