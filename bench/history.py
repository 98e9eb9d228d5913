"""Measurements 3 and 4 over one big log: projection rebuild and audit replay.

Both run as child processes, so their peak RSS is their own (getrusage of the child)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from .servers import orgledger_command
from .stores import Store


def cli_has(group: str, command: str) -> bool:
    """Whether this build's `orgledger` CLI has `group command` (other branches add them)."""
    from orgledger.adapters.cli import main

    sub = main.commands.get(group)
    return sub is not None and command in getattr(sub, "commands", {})


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float
    stdout: bytes


def _high_water_mb(pid: int) -> float | None:
    """VmHWM of a running process. Unlike the child's ru_maxrss, which Linux carries over
    exec from the forking parent (this big process), it counts only the child's own pages."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_measured(command: list[str], store: Store, *, stdout_to_null: bool) -> ChildRun:
    """Run a child to completion; wall time, CPU (wait4) and peak RSS (VmHWM, sampled)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            open(os.devnull, "wb") as null:
        started = time.monotonic()
        process = subprocess.Popen(command, env=store.process_env(),
                                   stdout=null if stdout_to_null else out, stderr=err)
        peak = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            # VmHWM only grows, so the last sample before exit misses at most 50 ms of growth.
            peak = max(peak, _high_water_mb(process.pid) or 0.0)
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[-4:])} failed ({process.returncode}): "
                           f"{stderr.decode(errors='replace')[-1500:]}")
    return ChildRun(seconds, peak, usage.ru_utime + usage.ru_stime, stdout)


def raw_decode_rate(ledger: Any, events: int, page: int) -> tuple[float, float]:
    """The store's own read-and-decode rate, per second of wall time and of CPU time:
    select_notifications pages + the mapper."""
    recorder, mapper = ledger.recorder, ledger.mapper
    start, done = 0, 0
    started, cpu = time.perf_counter(), time.process_time()
    while done < events:
        notifications = recorder.select_notifications(start=start, limit=page,
                                                      inclusive_of_start=False)
        if not notifications:
            break
        for n in notifications:
            mapper.to_domain_event(n)
        done += len(notifications)
        start = notifications[-1].id
    return done / (time.perf_counter() - started), done / (time.process_time() - cpu)


def rebuild(store: Store, events: int) -> dict[str, Any]:
    if cli_has("projections", "rebuild"):
        how = "orgledger projections rebuild --all"
        command = [*orgledger_command(), "projections", "rebuild", "--all"]
    else:
        how = "Projector.catch_up into fresh view tables (no `projections rebuild` in this build)"
        command = [sys.executable, "-m", "bench.catch_up"]
    run = run_measured(command, store, stdout_to_null=False)
    return {"how": how, "events": events, "seconds": round(run.seconds, 2),
            "events_per_s": round(events / run.seconds, 1), "peak_rss_mb": round(run.peak_rss_mb, 1),
            "events_per_cpu_s": round(events / run.cpu_seconds, 1),
            "cpu_cores": round(run.cpu_seconds / run.seconds, 2)}


def audit_replay(store: Store, events: int) -> dict[str, Any]:
    if not cli_has("audit", "log"):
        return {"skipped": "this build has no `orgledger audit log` command yet"}
    command = [*orgledger_command(), "audit", "log", "--format", "jsonl"]
    run = run_measured(command, store, stdout_to_null=True)
    return {"how": "orgledger audit log --format jsonl > /dev/null", "events": events,
            "seconds": round(run.seconds, 2), "events_per_s": round(events / run.seconds, 1),
            "events_per_cpu_s": round(events / run.cpu_seconds, 1),
            "peak_rss_mb": round(run.peak_rss_mb, 1)}
