"""LiteLLM's three error bodies, and the map from domain errors onto them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, RecordConflictError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from orgledger.application.deadline import DeadlineExceeded, OutcomeUnknown
from orgledger.domain.errors import (
    DomainError,
    NotAuthorizedError,
    NotFoundError,
    ProxyAdminOnlyError,
)
from orgledger.projections.failures import ProjectionError, ViewsBehind


class ProxyError(Exception):
    """Raised to answer `{"error": {message, type, param, code}}` (LiteLLM's ProxyException)."""

    def __init__(self, status: int, message: str, type: str = "auth_error", param: str | None = "None") -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param = status, message, type, param


class DetailError(Exception):
    """Raised to answer `{"detail": {"error": message}}` (an HTTPException in a LiteLLM handler)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class RequestValidationError(Exception):
    """Raised to answer FastAPI's 422 `{"detail": [...]}`."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("validation failed")
        self.errors = errors


def encode(content: Any) -> bytes:
    return msgspec.json.encode(content)


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode(content), status, headers, media_type="application/json")


def encoded_response(body: bytes) -> Response:
    """A 200 answer whose JSON body is already encoded (a cached read)."""
    return Response(body, media_type="application/json")


def streamed_response(chunks: Sequence[bytes]) -> Response:
    """A 200 answer whose JSON body is already encoded in chunks, sent one by one (no copy)."""
    async def each() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk
    return StreamingResponse(each(), media_type="application/json")


def validation_errors(error: ValidationError, *location: str) -> list[dict[str, Any]]:
    """Pydantic's errors as FastAPI reports them: loc starts with body/query/header, ctx made JSON-safe."""
    details = []
    for e in error.errors(include_url=False):
        detail: dict[str, Any] = {
            "type": e["type"],
            "loc": [*location, *e["loc"]],
            "msg": e["msg"],
            "input": e.get("input"),
        }
        if "ctx" in e:
            detail["ctx"] = {k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in e["ctx"].items()}
        details.append(detail)
    return details


def domain_status(error: DomainError) -> int:
    """A refusal's status, by its class: 404 for what does not exist, 400 for the rest."""
    return 404 if isinstance(error, NotFoundError) else 400


def wrapped(error: DomainError) -> ProxyError:
    """LiteLLM wraps member_add's refusals: the status stays, the detail becomes a message."""
    return ProxyError(domain_status(error), str({"error": error.message}))


# Set on a request whose route answers the domain's refusals wrapped (see `endpoint.route`).
WRAPS_REFUSALS = "wraps_refusals"


def to_response(exc: Exception, wraps_refusals: bool = False) -> Response:
    if isinstance(exc, ProxyError):
        body = {"error": {"message": exc.message, "type": exc.type, "param": exc.param, "code": str(exc.status)}}
        return json_response(body, exc.status)
    if isinstance(exc, DetailError):
        return json_response({"detail": {"error": exc.message}}, exc.status)
    if isinstance(exc, RequestValidationError):
        return json_response({"detail": exc.errors}, 422)
    if isinstance(exc, NotAuthorizedError):
        return to_response(ProxyError(401, exc.message, param=exc.param or "None"))
    if isinstance(exc, ProxyAdminOnlyError):
        return to_response(DetailError(401, exc.message))
    if isinstance(exc, DomainError):
        return to_response(wrapped(exc) if wraps_refusals else DetailError(domain_status(exc), exc.message))
    if isinstance(exc, OutcomeUnknown):
        return unavailable("The database connection was lost while the change was being committed: "
                           "it may or may not have been applied. Read the current state before "
                           "retrying, or retry with the same Idempotency-Key.")
    if isinstance(exc, DeadlineExceeded):
        return unavailable("The request was not applied: it did not finish within its deadline "
                           "(ORGLEDGER_REQUEST_TIMEOUT). It is safe to retry.")
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return unavailable(f"The database is unavailable; the request was not applied: {exc}")
    if isinstance(exc, ProjectionError | ViewsBehind):
        return unavailable(f"The read models are unavailable; the request was not applied: {exc}")
    if isinstance(exc, RecordConflictError):
        # Only reached once every retry lost its race: the caller may simply try again.
        return to_response(DetailError(409, "The request conflicted with concurrent changes "
                                            "and was not applied; retry it."))
    raise exc


# Raised when PostgreSQL cannot be reached: by eventsourcing's stores, or by psycopg directly on
# the connections of our own (the read cache's version question).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


def unavailable(message: str) -> Response:
    body = {"error": {"message": message, "type": "service_unavailable", "param": "None", "code": "503"}}
    return json_response(body, 503, {"Retry-After": "1"})


async def handle(request: Request, exc: Exception) -> Response:
    return to_response(exc, getattr(request.state, WRAPS_REFUSALS, False))


async def http_exception(request: Request, exc: Exception) -> Response:
    """Routing's 404 and 405 (with Allow) as FastAPI answers them: {"detail": "Not Found"}."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304) or exc.status_code < 200:  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    return json_response({"detail": exc.detail}, exc.status_code, exc.headers)


# nginx's status for a client that closed the connection before it was answered.
CLIENT_CLOSED_REQUEST = 499


async def client_disconnect(request: Request, exc: Exception) -> Response:
    """The client left while its body was read: nothing was decided and no one reads an answer,
    but the request log and metrics record it as the client's doing, not as a failure."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)


EXCEPTION_HANDLERS = {
    ProxyError: handle,
    DetailError: handle,
    RequestValidationError: handle,
    DomainError: handle,
    RecordConflictError: handle,
    OutcomeUnknown: handle,
    DeadlineExceeded: handle,
    **{error: handle for error in DATABASE_UNAVAILABLE},
    ProjectionError: handle,
    ViewsBehind: handle,
    HTTPException: http_exception,
    ClientDisconnect: client_disconnect,
}
