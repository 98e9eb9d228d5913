"""Start and stop real `orgledger serve` processes for end-to-end tests.

    with running_server({"ORGLEDGER_DATA_DIR": str(tmp_path)}) as server:
        httpx.get(f"{server.url}/health/liveliness")

Each server gets a free port (other test runs share this machine), its own environment and a
log file; leaving the block sends SIGTERM and waits for the process to exit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx

MASTER_KEY = "sk-e2e-master-key"
# Configuration the server must not inherit from whoever runs the tests.
SCRUBBED = ("LITELLM_MASTER_KEY", "ORGLEDGER_DATA_DIR", "DATABASE_URL", "ORGLEDGER_PG_SCHEMA",
            "ORGLEDGER_LOG_FORMAT", "ORGLEDGER_METRICS_REQUIRE_AUTH", "PROMETHEUS_MULTIPROC_DIR",
            "ORGLEDGER_LOG_LEVEL", "LITELLM_LOG", "ORGLEDGER_ENV", "HOST", "PORT")
# A deadline that catches a hung start even on a loaded machine; tests assert tighter bounds themselves.
STARTUP_SECONDS = 30.0
SHUTDOWN_SECONDS = 10.0


class Server(NamedTuple):
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    startup_seconds: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def orgledger_command(bin_dir: Path | None = None) -> list[str]:
    """The installed console script, from the venv running the tests unless told otherwise."""
    return [str((bin_dir or Path(sys.executable).parent) / "orgledger")]


def server_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    return {**base, "LITELLM_MASTER_KEY": MASTER_KEY, **(env or {})}


def wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float) -> float:
    """Seconds until /health/liveliness answered 200; raises if the process died or took too long."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"orgledger serve exited with {process.returncode} before answering")
        try:
            if httpx.get(f"{url}/health/liveliness", timeout=1.0).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"orgledger serve did not answer within {timeout} s")


def stop(process: subprocess.Popen[bytes], timeout: float = SHUTDOWN_SECONDS) -> int:
    """SIGTERM, then the exit code; kills (and raises) if the process outlives `timeout`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@contextmanager
def running_server(
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    *,
    command: Sequence[str] | None = None,
    cwd: Path | None = None,
    startup_timeout: float = STARTUP_SECONDS,
    port: int | None = None,
) -> Iterator[Server]:
    """`orgledger serve` on a free port of 127.0.0.1, answering before the block starts.

    `env` is laid over the test process's environment (minus orgledger's own settings) with
    LITELLM_MASTER_KEY=MASTER_KEY by default; set ORGLEDGER_DATA_DIR to a tmp dir. `args` go after
    `serve --host 127.0.0.1 --port N`; `port` picks N instead of a free port. The process may
    already be stopped when the block ends.
    """
    chosen = port
    full_env = server_env(env)
    for attempt in range(3):
        port = chosen or free_port()
        log = Path(tempfile.mkstemp(prefix="orgledger-serve-", suffix=".log")[1])
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*(command or orgledger_command()), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                env=full_env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            startup_seconds = wait_until_answering(url, process, startup_timeout)
        except Exception as e:
            if process.poll() is None:
                process.kill()
            process.wait()
            output = log.read_text(errors="replace")
            # Another process may have taken the port between free_port() and bind(): retry.
            if "address already in use" in output.lower() and attempt < 2 and chosen is None:
                continue
            raise RuntimeError(f"{e}; its output:\n{output}") from None
        break
    try:
        yield Server(url, process, log, startup_seconds)
    finally:
        if process.poll() is None:
            stop(process)
