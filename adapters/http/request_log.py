"""One log line and one metrics sample per request, and the request id that ties them to events.

A pure ASGI middleware: it sees every request, including the ones routing or auth refuse, and
adds no per-request task or body buffering (BaseHTTPMiddleware would do both).
"""

from __future__ import annotations

import json
import atexit
import logging
import re
import sys
import threading
from collections import deque
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orgledger.adapters.http import metrics

REQUEST_ID_HEADER = "x-request-id"
# Ids from upstream (proxies, LiteLLM, tracing) are kept when they are plain tokens; anything else
# could forge log lines or bloat them, so it is replaced.
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
UNMATCHED_ROUTE = "unmatched"

access_log = logging.getLogger("orgledger.access")


_REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.encode()


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID_HEADER_BYTES:
            candidate = value.decode("latin-1")
            if ACCEPTED_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The route's path pattern; never the raw path, so labels and logs cannot grow without bound."""
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED_ROUTE


def acting_user(state: dict[str, Any]) -> str | None:
    actor = state.get("actor") or state.get("caller")
    return getattr(actor, "user_id", None)


class RequestObserver:
    """Assigns the request id, times the request, then logs and counts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(scope)
        # Starlette's request.state reads this dict; endpoint.py puts the id into the actor.
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route, user_id = route_template(scope), acting_user(state)
            metrics.observe_request(route, scope["method"], status, seconds)
            if access_log.isEnabledFor(logging.INFO):
                # The record made and handled directly: Logger.info would also look up which
                # source line called it, for every request, and no format here shows that.
                access_log.handle(access_log.makeRecord(
                    access_log.name, logging.INFO, __file__, 0,
                    "%s %s %s %.1fms request_id=%s user_id=%s",
                    (scope["method"], route, status, seconds * 1000, request_id, user_id or "-"), None,
                    extra={"http": {
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 3),
                        "request_id": request_id,
                        "user_id": user_id,
                    }},
                ))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; request lines carry their fields at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "http", None)
        if fields:
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class BatchingHandler(logging.Handler):
    """Collects records and has one writer thread format and write them in batches, so a request
    neither waits on a write and flush of its own line nor wakes a thread for it.

    Lines reach the target within FLUSH_SECONDS, at once for warnings and errors, and when the
    batch is full. `stop()` writes out what is pending; records after it are written directly,
    so the last lines of a shutdown are never lost."""

    FLUSH_SECONDS = 0.2
    BATCH = 1000

    def __init__(self, target: logging.StreamHandler) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.target = target
        # deque.append and popleft are atomic, so emitting takes no lock and no record is lost.
        self.pending: deque[logging.LogRecord] = deque()
        self.wake = threading.Event()
        self.running = True
        self.writer = threading.Thread(target=self._write_batches, name="orgledger-log-writer", daemon=True)
        self.writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        if not self.running:
            self.target.handle(record)
            return
        # The arguments may change once the caller goes on, so the message is resolved now; the
        # writer formats the line, exception included, as the target handler would.
        try:
            record.msg, record.args = record.getMessage(), None
        except Exception:
            self.handleError(record)
            return
        self.pending.append(record)
        if not self.running:  # stopped meanwhile: its last write may have missed this record
            self._write_pending()
        elif record.levelno >= logging.WARNING or len(self.pending) >= self.BATCH:
            self.wake.set()

    def _write_batches(self) -> None:
        while self.running:
            self.wake.wait(self.FLUSH_SECONDS)
            self.wake.clear()
            self._write_pending()

    def _write_pending(self) -> None:
        batch = []
        try:
            while True:
                batch.append(self.pending.popleft())
        except IndexError:  # drained (a shutdown may drain it from two threads at once)
            pass
        if not batch:
            return
        target = self.target
        with target.lock:  # type: ignore[union-attr]
            try:
                target.stream.write("".join(target.format(r) + target.terminator for r in batch))
                target.stream.flush()
            except Exception:  # as logging does: a broken stream must not end the service
                target.handleError(batch[-1])

    def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        self.wake.set()
        if self.writer is not threading.current_thread():
            self.writer.join()
        self._write_pending()

    def close(self) -> None:
        self.stop()
        self.target.close()
        super().close()


class ListeningLine(logging.Filter):
    """Of uvicorn's own INFO lines only one is kept: the one it logs once its socket is bound,
    as orgledger's `listening on http://HOST:PORT` (the real port, also for --port 0)."""

    PREFIX, SUFFIX = "Uvicorn running on ", " (Press CTRL+C to quit)"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        if not isinstance(record.msg, str) or not record.msg.startswith(self.PREFIX):
            return False
        record.msg = "listening on " + record.msg[len(self.PREFIX):].removesuffix(self.SUFFIX)
        record.name = "orgledger"
        return True


def uvicorn_level(level: str) -> str:
    """uvicorn's log level for orgledger's: its INFO lines pass ListeningLine, never its DEBUG ones."""
    return "info" if level in ("DEBUG", "INFO") else level.lower()


def configure_logging(log_format: str, level: str = "INFO") -> None:
    """Send orgledger's and uvicorn's log lines to stdout in the chosen format (idempotent);
    orgledger's from `level` up (WARNING and above leave out the request lines)."""
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, ListeningLine) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(ListeningLine())
    stream = logging.StreamHandler(sys.stdout)
    stream.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler = BatchingHandler(stream)
    handler.orgledger = True  # type: ignore[attr-defined]
    for name in ("orgledger", "uvicorn"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "orgledger", False)]:
            logger.removeHandler(old)
            old.stop()
        logger.addHandler(handler)
        logger.propagate = False
    logging.getLogger("orgledger").setLevel(level)


def flush_logging() -> None:
    """Write out every queued log line and write later ones directly (at shutdown)."""
    for name in ("orgledger", "uvicorn"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, BatchingHandler):
                handler.stop()


# Worker processes end through lifespan shutdown (see app.py); a single process also ends here.
atexit.register(flush_logging)
