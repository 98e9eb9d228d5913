"""Real orgledger processes for end-to-end tests: free ports, start, wait until ready, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from orgledger.adapters.settings import Settings

ROOT = Path(__file__).resolve().parents[2]  # so `-m tests...` modules import in children
STARTUP_TIMEOUT = 90.0  # generous: other test runs may share this machine's two cores


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """This process's environment with `settings` in orgledger's variables."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": settings.database_url or "",
        "ORGLEDGER_PG_SCHEMA": settings.pg_schema,
        "LITELLM_MASTER_KEY": settings.master_key or "",
        "ORGLEDGER_DATA_DIR": str(settings.data_dir),
    })
    return env


def start(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`orgledger ARGS` (or `python -m MODULE` when args[0] is "-m"), output to `log`."""
    command = [sys.executable, *args] if args[0] == "-m" else [
        sys.executable, "-m", "orgledger.adapters.cli", *args]
    with open(log, "ab") as out:
        return subprocess.Popen(command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"orgledger exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/health/readiness", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"orgledger at {base_url} not ready:\n{log.read_text()}")


def wait_until(condition: object, timeout: float = STARTUP_TIMEOUT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
