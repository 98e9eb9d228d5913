"""The shape every endpoint shares: read, authenticate, validate, run the command, answer."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orgledger.application.commands import Done
from orgledger.application.deadline import Deadline, DeadlineExceeded, current_deadline
from orgledger.application.ledger import OrgLedger
from orgledger.domain.values import Actor

from orgledger.adapters.http import idempotency
from orgledger.adapters.http.auth import CHANGED_BY_HEADER, Caller
from orgledger.adapters.http.body import UndecodedBody, read_json
from orgledger.adapters.http.errors import WRAPS_REFUSALS, RequestValidationError, json_response, validation_errors
from orgledger.adapters.http.limits import Id
from orgledger.adapters.http.queries import Queries
from orgledger.adapters.runtime import Runtime

M = TypeVar("M", bound=BaseModel)

# Set on an answer whose change is committed but not yet shown by the read models: its value
# is the change's log position.
VIEWS_LAG_HEADER = "X-OrgLedger-Views-Lag"


@dataclass
class Call:
    """One authenticated request, as a handler sees it: who asks, and what it may ask in turn,
    the ledger (one command) and the queries (reads of the views)."""

    ledger: OrgLedger
    queries: Queries
    # Read-your-writes: True once the views show a log position, False if they lag (Runtime.settle).
    views_reach: Callable[[int], bool]
    caller: Caller
    actor: Actor
    # The committed position the views had not shown when the answer was made, if any.
    views_lag: int | None = None

    def settle(self, done: Done) -> bool:
        """Read-your-writes: wait for the views to show `done`, so the caller's next read sees
        it; False (and the answer says so) if they lag."""
        if self.views_reach(done.position):
            return True
        self.views_lag = done.position
        return False


def _nul_path(value: Any, path: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    """Where a string holds a NUL character, which PostgreSQL text cannot store."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return (*path, key)
        if (found := _nul_path(item, (*path, key))) is not None:
            return found
    return None


def parse(model: type[M], data: Any, location: str) -> M:
    if data is None and location == "body":
        raise RequestValidationError([{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}])
    if isinstance(data, UndecodedBody):
        # What FastAPI's validation says of a body it did not read as JSON.
        raise RequestValidationError([{
            "type": "model_attributes_type", "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from", "input": data.text}])
    if (nul := _nul_path(data)) is not None:
        # Refused at the edge: an event no read model can hold would stop every later catch-up.
        raise RequestValidationError([{"type": "string_nul", "loc": [location, *nul],
                                       "msg": "String should not contain NUL characters", "input": None}])
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise RequestValidationError(validation_errors(e, location)) from None


_CHANGED_BY = TypeAdapter(Id)


def changed_by(request: Request) -> str | None:
    """The LiteLLM-Changed-By header, which becomes the author of the events: bounded as an id."""
    value = request.headers.get(CHANGED_BY_HEADER)
    if value is None:
        return None
    try:
        return _CHANGED_BY.validate_python(value)
    except ValidationError as e:
        raise RequestValidationError(validation_errors(e, "header", CHANGED_BY_HEADER)) from None


# What a handler answers: a Response already made, or JSON content to encode.
Answer = Response | dict[str, Any] | list[dict[str, Any]]
# A handler takes the call and its parsed body or query.
Handler = Callable[[Call, M], Answer]


def endpoint(route: str, handler: Handler[M], *, body: type[M] | None = None,
             query: type[M] | None = None, quick: bool = False,
             wraps_refusals: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """An ASGI endpoint in LiteLLM's order: JSON decoding, auth, validation, then the handler.

    `quick` marks a handler that only reads a bounded number of view rows: where the views are a
    local SQLite file (WAL: readers never wait for writers), it runs on the event loop, because
    handing it to a worker thread and back costs more than the read itself. `wraps_refusals`
    marks a route whose domain refusals LiteLLM answers wrapped (errors.wrapped)."""

    model = body if body is not None else query
    if model is None:
        raise TypeError(f"{route}: an endpoint parses a body or a query")

    def decide(runtime: Runtime, request: Request, data: Any, deadline: Deadline) -> Response:
        # Authentication, authorization, validation and the handler all block on the store, so
        # they share one worker-thread hop rather than taking one each.
        token = current_deadline.set(deadline)
        try:
            caller = runtime.authenticate(request.headers)
            request.state.caller = caller
            query_params = dict(request.query_params)
            runtime.authorize(route, caller, data if isinstance(data, dict) else {}, query_params)
            author = changed_by(request)
            parsed = parse(model, data, "body") if body is not None else parse(model, query_params, "query")
            call = Call(
                ledger=runtime.ledger,
                queries=runtime.queries,
                views_reach=runtime.settle,
                caller=caller,
                actor=caller.actor(author, getattr(request.state, "request_id", None)),
            )
            request.state.actor = call.actor  # the request log names who acted

            def respond() -> Response:
                result = handler(call, parsed)
                response = result if isinstance(result, Response) else json_response(result)
                if call.views_lag is not None:
                    response.headers[VIEWS_LAG_HEADER] = str(call.views_lag)
                return response

            key = request.headers.get(idempotency.HEADER)
            if key is None or body is None:
                return respond()
            return idempotency.run_idempotent(runtime.ledger, route, caller, call.actor, key, data, respond)
        finally:
            current_deadline.reset(token)

    async def run(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        if wraps_refusals:
            setattr(request.state, WRAPS_REFUSALS, True)
        deadline = Deadline(runtime.settings.request_timeout)
        data = await read_json(request) if body else None
        if quick and runtime.local_views:
            return decide(runtime, request, data, deadline)
        # The event loop's executor (http.py installs a thread pool sized to the views' pool),
        # not anyio's threads: see WORKER_THREADS.
        future = asyncio.get_running_loop().run_in_executor(
            None, functools.partial(decide, runtime, request, data, deadline))
        try:
            return await asyncio.wait_for(asyncio.shield(future), deadline.remaining())
        except TimeoutError:
            if not deadline.call_off():
                return await future  # its events are being written: their outcome is the answer
            # Whatever the thread does now, the writer will leave its events out.
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise DeadlineExceeded("deadline passed") from None

    return run


def route(method: str, path: str, handler: Handler[M], name: str | None = None, *,
          body: type[M] | None = None, query: type[M] | None = None, quick: bool = False,
          wraps_refusals: bool = False) -> Route:
    """A Starlette route whose endpoint is `endpoint(path, handler, ...)`."""
    run = endpoint(path, handler, body=body, query=query, quick=quick, wraps_refusals=wraps_refusals)
    return Route(path, run, methods=[method], name=name)
