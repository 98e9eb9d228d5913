"""Hostile clients against a real `orgledger serve` (issue 11): none of them is a 500 or leaves a
traceback in the log, and the service takes an ordinary write afterwards."""

from __future__ import annotations

import socket
import stat
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.server import MASTER_KEY, running_server

pytestmark = pytest.mark.e2e
ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}


def wait_for_line(log: Path, text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        if text in output:
            return output
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never logged; the log:\n{log.read_text(errors='replace')}")


def test_hostile_clients_get_4xx_or_499_and_no_traceback(tmp_path: Path) -> None:
    with running_server({"ORGLEDGER_DATA_DIR": str(tmp_path / "data")}) as server, \
            httpx.Client(base_url=server.url) as http:
        # A client announces 1,000 bytes, sends 20 and hangs up.
        address = urlsplit(server.url)
        with socket.create_connection((address.hostname, address.port)) as raw:
            raw.sendall(b"POST /organization/new HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        b"Authorization: Bearer " + MASTER_KEY.encode() + b"\r\nContent-Length: 1000\r\n\r\n"
                        b'{"organization_alias"')
            time.sleep(0.2)
        log = wait_for_line(server.log, "POST /organization/new 499")
        # JSON nested 100,000 deep, without a key: refused before anything else.
        deep = http.post("/organization/new", content=b"[" * 100_000 + b"]" * 100_000,
                         headers={"Content-Type": "application/json"})
        assert deep.status_code == 422 and deep.json()["detail"][0]["type"] == "json_invalid"
        overflow = http.get("/audit", params={"page": "1000000000000000000"}, headers=ADMIN)
        assert overflow.status_code == 422
        assert http.get("/nowhere").json() == {"detail": "Not Found"}
        ordinary = http.post("/organization/new", json={"organization_alias": "after"}, headers=ADMIN)
        assert ordinary.status_code == 200, ordinary.text
        scrape = http.get("/metrics").text
    log = server.log.read_text(errors="replace")
    assert 'orgledger_http_requests_total{method="POST",route="/organization/new",status="499"} 1.0' in scrape
    assert 'status="500"' not in scrape
    assert "Traceback" not in log and " 500 " not in log, log
    # What serve wrote is its owner's only.
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()} == {p.name: 0o600 for p in data.iterdir()}
