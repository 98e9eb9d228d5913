"""Optimistic concurrency: a command that lost a race is decided again on fresh state."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import OperationalError, RecordConflictError

F = TypeVar("F", bound=Callable[..., Any])
MAX_ATTEMPTS = 50
conflict_observers: list[Callable[[str], None]] = []


def retry_on_conflict(method: F) -> F:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return method(*args, **kwargs)
            except (RecordConflictError, OperationalError):
                if attempt == MAX_ATTEMPTS:
                    raise
                for observe in conflict_observers:
                    observe(method.__name__)
                # Jitter spreads out writers that collided, so the next attempt rarely collides again.
                time.sleep(random.uniform(0, 0.002 * min(attempt, 10)))
        raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]
