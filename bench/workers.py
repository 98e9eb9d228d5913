"""Measurement 6: `serve --workers 2` over `--workers 1` on SQLite (one projector for both workers).

Both servers run on fresh stores, seeded over HTTP with the same 100 x 10 data, under the same
uvicorn stack, and are measured scenario by scenario, back to back, in the same run; the issue's
target is each ratio >= 1.4 on this 2-core machine.

wrk runs two threads here, for both servers. Two busy workers leave wrk no core of its own: with
one thread it waits for a time slice between its requests, and measured the generator instead
(info: 8,500 req/s on two workers with one wrk thread, 12,700 with two, against 9,900 on one
worker, in runs side by side)."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from . import commands, loadgen, peer, reads
from .servers import orgledger_server
from .tables import comparison_row, text_table, verdict
from .stores import fresh_store

TARGET = 1.4
LOADS = {"info": reads.INFO, "new": commands.NEW_ORG, "member_add": commands.MEMBER_ADD}
WORKERS = (1, 2)
WRK_THREADS = 2
PATHS = {"info": "GET /organization/info", "new": "POST /organization/new",
         "member_add": "POST /organization/member_add"}


def measure(seconds: float, clients: int) -> dict[str, Any]:
    with ExitStack() as stack:
        servers = {}
        for n in WORKERS:
            store = stack.enter_context(fresh_store("sqlite"))
            servers[n] = stack.enter_context(orgledger_server(store, stack=(*peer.STACK, "--workers", str(n))))
            peer.seed(servers[n])
        scenarios = {name: with_ratio({f"workers {n}": loadgen.run(
            server, load, connections=clients, seconds=seconds, threads=WRK_THREADS).as_dict()
            for n, server in servers.items()}) for name, load in LOADS.items()}
    return {"clients": clients, "seconds": seconds, "stack": " ".join(peer.STACK),
            "wrk_threads": WRK_THREADS, "scenarios": scenarios}


def with_ratio(runs: dict[str, Any]) -> dict[str, Any]:
    """Two workers' throughput over one's; None when either run had errors (a fast stream of
    errors proves nothing) or one worker answered nothing."""
    one, two = runs["workers 1"], runs["workers 2"]
    clean = not one["errors"] and not two["errors"] and one["throughput_rps"]
    return {**runs, "ratio": round(two["throughput_rps"] / one["throughput_rps"], 3) if clean else None}


def ratios(workers: dict[str, Any]) -> dict[str, Any]:
    return {f"{name} workers 2 / 1": s["ratio"] for name, s in (workers.get("scenarios") or {}).items()}


def targets(backend: str, workers: dict[str, Any] | None) -> list[dict[str, Any]]:
    if workers is None:
        return []
    why = workers.get("skipped") or workers.get("error") or "errors in the run"
    rows = []
    for name in LOADS:
        target = f"{name} with --workers 2 >= {TARGET}x --workers 1"
        ratio = ((workers.get("scenarios") or {}).get(name) or {}).get("ratio")
        rows.append({"backend": backend, "target": target, "result": "NOT MEASURED", "why": why}
                    if ratio is None else
                    {"backend": backend, "target": target, "value": ratio, "limit": TARGET,
                     "result": verdict(ratio, TARGET)})
    return rows


def table(workers: dict[str, Any]) -> str:
    if "scenarios" not in workers:
        return f"--workers 2 over --workers 1: {workers.get('skipped') or workers.get('error')}"
    header = ["scenario", "1 worker req/s", "2 workers req/s", "ratio", "target", "result", "p99 ms (1 / 2)"]
    body = [comparison_row(PATHS[name], s["workers 1"], s["workers 2"], s["ratio"], TARGET)
            for name, s in workers["scenarios"].items()]
    return text_table(f"serve --workers 2 over --workers 1 (SQLite, {workers['stack']}, {workers['clients']} "
                      f"clients, {workers.get('wrk_threads', 1)} wrk threads, {workers['seconds']:.0f} s each):",
                      header, body)
