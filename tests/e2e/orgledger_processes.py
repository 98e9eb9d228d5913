"""Projector processes for end-to-end tests (servers come from tests/e2e/server.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from orgledger.adapters.settings import Settings
from tests.e2e.server import server_env

ROOT = Path(__file__).resolve().parents[2]  # so `-m tests...` modules import in children
STARTUP_TIMEOUT = 90.0  # generous: other test runs may share this machine's two cores


def settings_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment that gives a child process exactly these settings."""
    return server_env({
        "DATABASE_URL": settings.database_url or "",
        "ORGLEDGER_PG_SCHEMA": settings.pg_schema,
        "LITELLM_MASTER_KEY": settings.master_key or "",
        "ORGLEDGER_DATA_DIR": str(settings.data_dir),
        **(extra or {}),
    })


def start(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`orgledger ARGS`, or `python -m MODULE` when args[0] is "-m"; output appended to `log`."""
    command = [sys.executable, *args] if args[0] == "-m" else [
        sys.executable, "-m", "orgledger.adapters.cli.main", *args]
    with open(log, "ab") as out:
        return subprocess.Popen(command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def wait_until(condition: Callable[[], bool], timeout: float = STARTUP_TIMEOUT,
               what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
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
