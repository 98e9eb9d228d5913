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
    from orgledger.adapters.cli.main import main

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


class OverBudget(Exception):
    """Raised when a child did not finish within its share of the 5-minute budget."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"not finished within {seconds:.0f} s, stopped")
        self.seconds = seconds


def run_measured(command: list[str], store: Store, *, stdout_to_null: bool,
                 timeout: float | None = None) -> ChildRun:
    """Run a child to completion; wall time, CPU (wait4) and peak RSS (VmHWM, sampled).
    Past `timeout` seconds the child is killed and OverBudget raised."""
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
            if timeout is not None and time.monotonic() - started > timeout:
                process.kill()
                process.wait()
                raise OverBudget(timeout)
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


def raw_decode_rate(ledger: Any, events: int, page: int) -> dict[str, Any]:
    """The rebuild's raw limit: the store's own read-and-decode rate (select_notifications
    pages of the rebuild's size + the application's mapper), per second of wall and CPU time,
    over the first `events` events of the log. Nothing is applied: that is the rebuild's work."""
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
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"events": done, "page": page, "seconds": round(seconds, 2),
            "events_per_s": round(done / seconds, 1), "events_per_cpu_s": round(done / cpu, 1)}


def rebuild_page() -> int:
    """The page size `projections rebuild` reads the log in (the projector's, in older builds)."""
    try:
        from orgledger.projections.rebuild import BATCH_SIZE
    except ImportError:
        from orgledger.projections.projector import BATCH_SIZE
    return BATCH_SIZE


def rebuild(store: Store, events: int, timeout: float | None = None) -> dict[str, Any]:
    """`orgledger projections rebuild --all` over the whole log: builds every view."""
    if cli_has("projections", "rebuild"):
        how = "orgledger projections rebuild --all"
        command = [*orgledger_command(), "projections", "rebuild", "--all"]
    else:
        how = "Projector.catch_up into fresh view tables (no `projections rebuild` in this build)"
        command = [sys.executable, "-m", "bench.catch_up"]
    return _rated(how, command, store, events, timeout, stdout_to_null=False)


def audit_replay(store: Store, events: int, timeout: float | None = None) -> dict[str, Any]:
    if not cli_has("audit", "log"):
        return {"skipped": "this build has no `orgledger audit log` command yet"}
    command = [*orgledger_command(), "audit", "log", "--format", "jsonl"]
    return _rated("orgledger audit log --format jsonl > /dev/null", command, store, events,
                  timeout, stdout_to_null=True)


def _rated(how: str, command: list[str], store: Store, events: int, timeout: float | None,
           *, stdout_to_null: bool) -> dict[str, Any]:
    try:
        run = run_measured(command, store, stdout_to_null=stdout_to_null, timeout=timeout)
    except OverBudget as e:
        # Killed at its budget: the rate is known to be below events / budget.
        return {"how": how, "events": events, "over_budget": True, "seconds": e.seconds,
                "events_per_s_below": round(events / e.seconds, 1)}
    return {"how": how, "events": events, "seconds": round(run.seconds, 2),
            "events_per_s": round(events / run.seconds, 1), "peak_rss_mb": round(run.peak_rss_mb, 1),
            "events_per_cpu_s": round(events / run.cpu_seconds, 1),
            "cpu_cores": round(run.cpu_seconds / run.seconds, 2)}
