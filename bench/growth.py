"""Measurement 5: how read latency grows with the number of organizations.

One client, so a latency is the service time without queueing behind other requests. One
client's p99 over a few seconds is mostly the scheduler on a shared 2-core machine, so the
sizes are measured together: every size has its server up, and rounds visit the sizes in a
random order, each round sending the same number of requests to every size, for random
organizations. Noise then lands on every size alike, and each size gets thousands of
requests. The servers run without the read cache, so every request reads the views."""

from __future__ import annotations

import http.client
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from . import dataset
from .servers import ADMIN_HEADERS, Server

MEMBERS = 4
# Every info request reads the views (see _growth in __main__).
SERVER_ENV = {"ORGLEDGER_READ_CACHE_MB": "0"}
# Requests per size in one round. Info and the filtered list are measured in turn, each for
# its share of the time: a list can be 100x slower, and mixed in it would leave few info requests.
PER_ROUND = {"info": 40, "list_filter": 4}
SHARE = {"info": 2 / 3, "list_filter": 1 / 3}
WARMUP_ROUNDS = 2
MIN_ROUNDS = 5


def info_path(i: int) -> str:
    return f"/organization/info?organization_id={dataset.org_id(i)}"


def filter_path(i: int) -> str:
    # The zero-padded number matches exactly one alias; the filter is a substring match.
    return f"/organization/list?org_alias={i:07d}"


class Client:
    """One keep-alive connection; the latency of a request is until its body is read."""

    def __init__(self, server: Server) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.errors = 0
        self.failure: str | None = None

    def get(self, path: str) -> float:
        started = time.perf_counter()
        self.connection.request("GET", path, headers=ADMIN_HEADERS)
        response = self.connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        if response.status != 200:
            self.errors += 1
            self.failure = self.failure or f"{response.status} {body[:300]!r}"
        return seconds

    def close(self) -> None:
        self.connection.close()


def measure(servers: dict[int, Server], seconds: float, seed: int = 7) -> list[dict[str, Any]]:
    """Interleaved rounds over every size until `seconds` have passed (at least MIN_ROUNDS each)."""
    rng = random.Random(seed)
    clients = {orgs: Client(server) for orgs, server in servers.items()}
    samples: dict[int, dict[str, list[float]]] = {orgs: {kind: [] for kind in PER_ROUND} for orgs in servers}
    rounds: dict[str, int] = {}
    try:
        for kind, path in (("info", info_path), ("list_filter", filter_path)):
            rounds[kind] = _rounds(clients, samples, kind, path, seconds * SHARE[kind], rng)
    finally:
        for client in clients.values():
            client.close()
    return [{"orgs": orgs, "rounds": rounds, "errors": clients[orgs].errors,
             **({"failure_sample": clients[orgs].failure} if clients[orgs].failure else {}),
             **{kind: _summary(values) for kind, values in samples[orgs].items()}}
            for orgs in sorted(servers)]


def _rounds(clients: dict[int, Client], samples: dict[int, dict[str, list[float]]], kind: str,
            path: Callable[[int], str], seconds: float, rng: random.Random) -> int:
    sizes = list(clients)
    done, started = 0, time.monotonic()
    while done < WARMUP_ROUNDS + MIN_ROUNDS or time.monotonic() - started < seconds:
        rng.shuffle(sizes)
        for orgs in sizes:
            latencies = [clients[orgs].get(path(rng.randrange(orgs))) for _ in range(PER_ROUND[kind])]
            if done >= WARMUP_ROUNDS:  # the first rounds warm caches and connections
                samples[orgs][kind] += latencies
        done += 1
        if done == WARMUP_ROUNDS:
            started = time.monotonic()
    return done - WARMUP_ROUNDS


def _summary(latencies: list[float]) -> dict[str, Any]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    ms = {"p50_ms": cuts[49], "p90_ms": cuts[89], "p99_ms": cuts[98], "max_ms": max(latencies)}
    return {"requests": len(latencies), **{k: round(v * 1000, 3) for k, v in ms.items()}}


def with_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row gains every percentile over the smallest size's, for info and the filtered list."""
    first = rows[0]
    return [{**row, "vs_smallest": {
        kind: {p: round(row[kind][p] / first[kind][p], 3) if first[kind][p] else None
               for p in ("p50_ms", "p90_ms", "p99_ms")}
        for kind in ("info", "list_filter")}} for row in rows]
