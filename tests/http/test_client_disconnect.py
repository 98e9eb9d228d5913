"""A client that goes away in the middle of its body is logged and counted as a client
disconnect (499, as nginx names it): not as a 500, and with no traceback. The ASGI app is
driven directly, as a server would after reading part of the body."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from orgledger.adapters.http import metrics
from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import build_runtime
from tests.conftest import MASTER_KEY, make_settings


def requests_counted(status: str) -> float:
    return metrics.HTTP_REQUESTS.labels("/organization/new", "POST", status)._value.get()  # type: ignore[attr-defined]


def test_a_client_gone_mid_body_is_a_499_without_a_traceback(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    app = build_app(runtime=runtime)
    app.state.runtime = runtime
    head = runtime.ledger.recorder.max_notification_id()
    before = {s: requests_counted(s) for s in ("499", "500")}
    incoming = [{"type": "http.request", "body": b'{"organization_alias": "par', "more_body": True},
                {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/organization/new", "raw_path": b"/organization/new", "query_string": b"", "root_path": "",
        "headers": [(b"authorization", f"Bearer {MASTER_KEY}".encode()), (b"content-type", b"application/json"),
                    (b"content-length", b"100")],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 4000),
    }
    try:
        asyncio.run(app(scope, receive, send))  # raised before: ClientDisconnect, after a 500
        assert runtime.ledger.recorder.max_notification_id() == head
    finally:
        runtime.close()
    assert sent[0]["status"] == 499
    assert requests_counted("499") == before["499"] + 1
    assert requests_counted("500") == before["500"]
    [line] = [r for r in caplog.records if r.name == "orgledger.access"]
    assert line.http["status"] == 499  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
