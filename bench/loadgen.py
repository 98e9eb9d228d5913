"""The load generator: wrk (C, event loop), driven by one Lua script that makes every body unique.

wrk's own CPU use is reported with every run, so a reader can see it was not the bottleneck."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .servers import Server
from .stores import MASTER_KEY

SCRIPT = Path(__file__).with_name("lua") / "load.lua"


def wrk_path() -> str | None:
    return shutil.which("wrk")


@dataclass(frozen=True)
class Load:
    """What to send: `{u}` in a template is unique per request, `{r}` random in [0, range)."""

    method: str
    path: str
    body: str = ""
    range: int = 1


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    loadgen_cpu: float  # cores used by wrk over the run
    server_cpu: float  # cores used by the server over the run
    failure: str | None = None  # one failed response (status and body), when any failed

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "requests": self.requests, "seconds": round(self.seconds, 2), "errors": self.errors,
            "throughput_rps": round(self.throughput, 1), "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms,
            "loadgen_cpu_cores": round(self.loadgen_cpu, 2),
            "server_cpu_cores": round(self.server_cpu, 2),
            **({"failure_sample": self.failure} if self.failure else {}),
        }


def run(server: Server, load: Load, *, connections: int, seconds: float,
        warmup: float = 1.0, threads: int = 1) -> LoadResult:
    if warmup > 0:
        _wrk(server, load, connections, warmup, threads)
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    result, loadgen_cpu, failure = _wrk(server, load, connections, seconds, threads)
    wall = time.monotonic() - started
    server_cpu = (server.cpu_seconds() - cpu_before) / wall
    errors = sum(v for k, v in result.items() if k.startswith("errors_"))
    return LoadResult(
        requests=result["requests"], seconds=result["duration_us"] / 1e6, errors=errors,
        p50_ms=result["p50_us"] / 1000, p90_ms=result["p90_us"] / 1000,
        p99_ms=result["p99_us"] / 1000, max_ms=result["max_us"] / 1000,
        loadgen_cpu=loadgen_cpu, server_cpu=server_cpu, failure=failure,
    )


def _wrk(server: Server, load: Load, connections: int, seconds: float,
         threads: int = 1) -> tuple[dict[str, int], float, str | None]:
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    # One wrk thread by default: wrk's event loop drives 16+ connections at far more requests/s
    # than a Python server answers, and the machine's other core is the server's.
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(seconds, 1):.0f}s", "--timeout", "30s",
               "-s", str(SCRIPT), server.base, "--",
               load.method, load.path, load.body, str(load.range), MASTER_KEY,
               uuid.uuid4().hex[:8]]
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    line = next((ln for ln in text.splitlines() if ln.startswith("WRKJSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {text[-1000:]}")
    failure = next((ln.removeprefix("WRKFAIL ") for ln in text.splitlines()
                    if ln.startswith("WRKFAIL ")), None)
    cpu = (usage.ru_utime + usage.ru_stime) / wall
    return json.loads(line.removeprefix("WRKJSON ")), cpu, failure
