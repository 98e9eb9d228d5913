"""Optimistic concurrency: a command that lost a race is decided again on fresh state."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import OperationalError, RecordConflictError

from orgledger.domain.errors import DomainError

from .append_condition import AggregateFenced
from .deadline import check_deadline

F = TypeVar("F", bound=Callable[..., Any])
MAX_ATTEMPTS = 50
# Seconds a command waits, in all, for fences on what it writes to (adapters/persistence/fences.py).
FENCE_PATIENCE = 30.0
conflict_observers: list[Callable[[str], None]] = []
# Told (command name, outcome, seconds) after every command: outcome is "ok", "rejected" when a
# domain rule refused it, or "failed" on any other error. Adapters hang metrics here.
command_observers: list[Callable[[str, str, float], None]] = []


def retry_on_conflict(method: F) -> F:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "failed"
        attempt = 0
        try:
            while True:
                try:
                    result = method(*args, **kwargs)
                    outcome = "ok"
                    return result
                except AggregateFenced:
                    # Not a lost race: a command that fenced the aggregate (a delete) is under way.
                    # Wait for it without spending attempts; the next one usually finds it done.
                    if time.perf_counter() - started > FENCE_PATIENCE:
                        raise
                    check_deadline()
                    for observe in conflict_observers:
                        observe(method.__name__)
                    time.sleep(random.uniform(0.005, 0.02))
                except (RecordConflictError, OperationalError):
                    attempt += 1
                    if attempt == MAX_ATTEMPTS:
                        raise
                    check_deadline()  # past it, the caller has been answered: stop here
                    for observe in conflict_observers:
                        observe(method.__name__)
                    # Jitter spreads out writers that collided, so the next attempt rarely collides again.
                    time.sleep(random.uniform(0, 0.002 * min(attempt, 10)))
                except DomainError:
                    outcome = "rejected"
                    raise
        finally:
            for observe_command in command_observers:
                observe_command(method.__name__, outcome, time.perf_counter() - started)

    return wrapper  # type: ignore[return-value]
