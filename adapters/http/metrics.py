"""Prometheus metrics: HTTP requests, commands, appended events, and how far each projection lags.

The counters and histograms live at module level, as prometheus-client expects. With
PROMETHEUS_MULTIPROC_DIR set (serve sets it for --workers > 1) every worker writes them to files
there and a scrape merges them, so any worker answers for all. Log head and projection positions
are read from the store at scrape time, so they are the same whichever worker answers.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Recording
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from orgledger.application import retry
from orgledger.projections import failures

from orgledger.adapters.persistence.data_files import private_folder

if TYPE_CHECKING:
    from orgledger.adapters.runtime import Runtime

# `*_created` timestamps double the series count and dashboards do not use them.
disable_created_metrics()

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "orgledger_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ("route", "method", "status"),
)
HTTP_DURATION = Histogram(
    "orgledger_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, in seconds.",
    ("route", "method", "status"),
)
COMMANDS = Counter(
    "orgledger_commands",
    "Commands run, by type and outcome (ok; rejected by a domain rule; failed).",
    ("command", "outcome"),
)
COMMAND_DURATION = Histogram(
    "orgledger_command_duration_seconds",
    "Time to decide and save a command, retries included, in seconds.",
    ("command",),
)
CONFLICT_RETRIES = Counter(
    "orgledger_command_conflict_retries",
    "Commands decided again because a concurrent write won the optimistic-concurrency race.",
    ("command",),
)
EVENTS_APPENDED = Counter(
    "orgledger_events_appended",
    "Events appended to the log by this process, by event type.",
    ("type",),
)


# `.labels()` validates and locks on every call; the child per label tuple never changes, so
# each is looked up once. Routes are templates, and methods, statuses, commands, outcomes and
# event types are few, so this stays small.
@functools.cache
def _child(metric: Any, *labels: str) -> Any:
    return metric.labels(*labels)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    labels = (route, method, str(status))
    _child(HTTP_REQUESTS, *labels).inc()
    _child(HTTP_DURATION, *labels).observe(seconds)


def _observe_command(command: str, outcome: str, seconds: float) -> None:
    _child(COMMANDS, command, outcome).inc()
    _child(COMMAND_DURATION, command).observe(seconds)


def _observe_conflict(command: str) -> None:
    CONFLICT_RETRIES.labels(command).inc()


def count_appended(recordings: Sequence[Recording[Any]]) -> None:
    for recording in recordings:
        _child(EVENTS_APPENDED, type(recording.domain_event).__qualname__).inc()


# Commands report from the application layer; importing this module is what connects them.
retry.command_observers.append(_observe_command)
retry.conflict_observers.append(_observe_conflict)


def store_metrics(runtime: Runtime) -> Iterator[Metric]:
    """Log head, each projection's position and its lag, read from the store now."""
    up = GaugeMetricFamily("orgledger_store_up", "1 when the last scrape could read the store, else 0.")
    try:
        head = runtime.ledger.recorder.max_notification_id() or 0
        with runtime.read() as cur:
            positions = {p.name: p.position(cur) for p in runtime.projector.projections}
            stuck = {f.projection: f for f in failures.current(cur, positions)}
    except Exception:  # an unreachable store is exactly what this gauge reports
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    yield GaugeMetricFamily(
        "orgledger_event_log_head_position", "Position (notification id) of the last event in the log.",
        value=head,
    )
    position = GaugeMetricFamily(
        "orgledger_projection_position", "Position of the last event a projection has applied.",
        labels=["projection"],
    )
    lag = GaugeMetricFamily(
        "orgledger_projection_lag_events", "Events in the log that a projection has not applied yet.",
        labels=["projection"],
    )
    stuck_at = GaugeMetricFamily(
        "orgledger_projection_stuck_position",
        "Position of the event a projection cannot apply (it retries it); 0 while it applies events.",
        labels=["projection"],
    )
    attempts = GaugeMetricFamily(
        "orgledger_projection_failed_attempts",
        "Failed attempts at the event a projection is stuck at; 0 while it applies events.",
        labels=["projection"],
    )
    for name, at in sorted(positions.items()):
        position.add_metric([name], at)
        lag.add_metric([name], max(head - at, 0))
        failure = stuck.get(name)
        stuck_at.add_metric([name], failure.position if failure else 0)
        attempts.add_metric([name], failure.attempts if failure else 0)
    yield position
    yield lag
    yield stuck_at
    yield attempts


class _Scrape:
    """What one scrape exports: this process's (or all workers') series, then the store's."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        if os.environ.get(MULTIPROC_ENV):
            yield from MultiProcessCollector(None).collect()
        else:
            yield from REGISTRY.collect()
        yield from store_metrics(self.runtime)


def exposition(runtime: Runtime) -> bytes:
    """The Prometheus text format of every series, for GET /metrics."""
    return generate_latest(_Scrape(runtime))  # type: ignore[arg-type]


def prepare_multiprocess_dir(path: Path) -> None:
    """Create the directory and drop series files of earlier runs, as prometheus-client requires
    (counters left there by a previous run would otherwise be added to this run's)."""
    private_folder(path)
    for kind in ("counter", "gauge", "histogram", "summary"):
        for stale in path.glob(f"{kind}_*.db"):
            stale.unlink()
