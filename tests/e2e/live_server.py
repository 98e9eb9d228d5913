"""A real `orgledger serve` process on a free port, for tests that talk HTTP to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import MASTER_KEY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path
    log: Path

    def client(self, key: str | None = MASTER_KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


@contextmanager
def live_server(tmp_path: Path, master_key: str = MASTER_KEY) -> Iterator[LiveServer]:
    """Start `orgledger serve` on SQLite under tmp_path; stop it (SIGTERM, then kill) on exit."""
    port = free_port()
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(LITELLM_MASTER_KEY=master_key, ORGLEDGER_DATA_DIR=str(data_dir))
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "orgledger.adapters.cli", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/health/liveliness", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"orgledger serve did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield LiveServer(url, data_dir, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
