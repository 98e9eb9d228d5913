"""HTTP servers under test, each a subprocess on a free port: `orgledger serve` and the bare app."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .stores import MASTER_KEY, Store

ADMIN_HEADERS = {"Authorization": f"Bearer {MASTER_KEY}"}
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def get(self, path: str) -> bytes:
        request = urllib.request.Request(self.base + path, headers=ADMIN_HEADERS)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def post(self, path: str, body: bytes) -> bytes:
        request = urllib.request.Request(
            self.base + path, data=body, method="POST",
            headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()


def orgledger_command() -> list[str]:
    # The console script of this interpreter's environment, else the module.
    script = Path(sys.executable).with_name("orgledger")
    return [str(script)] if script.exists() else [sys.executable, "-m", "orgledger.adapters.cli.main"]


@contextmanager
def running(command: list[str], env: dict[str, str], port: int, ready_path: str,
            timeout: float = 120.0) -> Iterator[Server]:
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"orgledger-bench-server-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port, log)
    try:
        _wait_ready(server, ready_path, timeout)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)


def _wait_ready(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}: "
                               f"{server.log.read_text(errors='replace')[-2000:]}")
        try:
            server.get(path)
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"server not ready after {timeout} s")


@contextmanager
def orgledger_server(store: Store, env: dict[str, str] | None = None,
                     stack: Sequence[str] = ()) -> Iterator[Server]:
    port = free_port()
    command = [*orgledger_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *stack]
    with running(command, {**store.process_env(), **(env or {})}, port, "/health/liveliness") as server:
        yield server


@contextmanager
def bare_server(bodies: dict[str, bytes], stack: Sequence[str] = ()) -> Iterator[Server]:
    """The raw limit for reads: constant JSON bodies under the same uvicorn settings."""
    port = free_port()
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"orgledger-bench-bare-{port}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in bodies.items():
        (folder / f"{name}.json").write_bytes(body)
    env = {**os.environ, "BENCH_BARE_DIR": str(folder)}
    command = [sys.executable, "-m", "bench.bare_app", "--port", str(port), *stack]
    try:
        with running(command, env, port, "/health") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)
