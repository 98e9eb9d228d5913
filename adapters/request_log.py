"""One log line and one metrics sample per request, and the request id that ties them to events.

A pure ASGI middleware: it sees every request, including the ones routing or auth refuse, and
adds no per-request task or body buffering (BaseHTTPMiddleware would do both).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics

REQUEST_ID_HEADER = "x-request-id"
# Ids from upstream (proxies, LiteLLM, tracing) are kept when they are plain tokens; anything else
# could forge log lines or bloat them, so it is replaced.
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
UNMATCHED_ROUTE = "unmatched"

access_log = logging.getLogger("orgledger.access")


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
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
            access_log.info(
                "%s %s %s %.1fms request_id=%s user_id=%s",
                scope["method"], route, status, seconds * 1000, request_id, user_id or "-",
                extra={"http": {
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "request_id": request_id,
                    "user_id": user_id,
                }},
            )


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


def configure_logging(log_format: str) -> None:
    """Send orgledger's and uvicorn's log lines to stdout in the chosen format (idempotent)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    for name in ("orgledger", "uvicorn"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "orgledger", False)]:
            logger.removeHandler(old)
        handler.orgledger = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    logging.getLogger("orgledger").setLevel(logging.INFO)
