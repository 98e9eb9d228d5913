"""A real `orgledger serve` under a stream of writes, stopped by SIGTERM or killed by SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.settings import Settings
from orgledger.domain.organization import Organization
from tests.conftest import ADMIN, MASTER_KEY

pytestmark = pytest.mark.e2e
WRITERS = 4
GRACEFUL_TIMEOUT = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(LITELLM_MASTER_KEY=MASTER_KEY, ORGLEDGER_DATA_DIR=str(data_dir), ORGLEDGER_LOG_FORMAT="json")
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "orgledger.adapters.cli.main", "serve", "--port", str(port),
             "--graceful-timeout", str(GRACEFUL_TIMEOUT)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/liveliness", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise AssertionError(f"server did not start:\n{log.read_text()}")


class WriteStream:
    """Writers that create organizations until the server stops answering; remembers every 200."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/organization/new"
        self.answered: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.write, args=(n,)) for n in range(WRITERS)]

    def write(self, writer: int) -> None:
        with httpx.Client(timeout=15) as client:
            for i in range(100_000):
                if self.stop.is_set():
                    return
                org_id = f"w{writer}-{i}"
                try:
                    response = client.post(self.url, headers={**ADMIN, "X-Request-ID": f"req-{org_id}"},
                                           json={"organization_id": org_id, "organization_alias": org_id})
                except httpx.TransportError:
                    time.sleep(0.01)  # refused or cut off: not answered, so not promised
                    continue
                if response.status_code == 200:
                    self.answered.append(org_id)

    def __enter__(self) -> WriteStream:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.answered) < count:
            assert time.monotonic() < deadline, "writes are not being answered"
            time.sleep(0.01)


def assert_all_present(data_dir: Path, org_ids: list[str]) -> None:
    runtime = build_runtime(Settings(master_key=MASTER_KEY, data_dir=data_dir, backend="sqlite"))
    try:
        missing_events = [i for i in org_ids if Organization.create_id(i) not in runtime.ledger.repository]
        with runtime.read() as cur:
            missing_rows = [i for i in org_ids if runtime.organizations.org(cur, i) is None]
    finally:
        runtime.close()
    assert (missing_events, missing_rows) == ([], [])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_every_answered_write_survives_the_server_stopping(tmp_path: Path, sig: signal.Signals) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    server = start_server(data_dir, free_port(), log)
    try:
        with WriteStream(server_port(server)) as stream:
            # Writes flow from four clients; the signal arrives in the middle of them.
            stream.wait_for(40)
            server.send_signal(sig)
            signalled = time.monotonic()
            code = server.wait(timeout=GRACEFUL_TIMEOUT + 5)
            stopped_after = time.monotonic() - signalled
    finally:
        if server.poll() is None:
            server.kill()
    answered = list(stream.answered)
    if sig == signal.SIGTERM:
        # A graceful stop: exit 0 within the graceful timeout, store closed last.
        assert code == 0, log.read_text()[-2000:]
        assert stopped_after < GRACEFUL_TIMEOUT
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        assert lines[-1]["message"] == "requests finished, store closed"
        # Every answered write has its JSON log line, with the id the client sent.
        logged = {line["request_id"] for line in lines if line.get("status") == 200}
        assert {f"req-{i}" for i in answered} <= logged
    else:
        assert code == -signal.SIGKILL
    # After a restart, every write that was answered 200 is there: in the log and in the views.
    assert len(answered) >= 40
    assert_all_present(data_dir, answered)


def server_port(server: subprocess.Popen[bytes]) -> int:
    args = server.args
    assert isinstance(args, list)
    return int(args[args.index("--port") + 1])
