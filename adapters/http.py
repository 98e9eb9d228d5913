"""The Starlette application: routes, lifespan and the one map from errors to responses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import EXCEPTION_HANDLERS, json_response
from .org_routes import ROUTES as ORG_ROUTES
from .runtime import Runtime, build_runtime
from .settings import Settings


async def liveliness(request: Request) -> Response:
    return json_response("I'm alive!")


async def readiness(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        head = await run_in_threadpool(runtime.ledger.recorder.max_notification_id)
        positions = await run_in_threadpool(runtime.projector.positions)
    except Exception as e:  # any failure to reach the store means "not ready"
        return json_response({"status": "unhealthy", "db": "disconnected", "error": str(e)}, 503)
    return json_response({"status": "healthy", "db": "connected", "log_head": head or 0,
                          "projections": positions})


def build_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """The HTTP app over a given runtime, or over one built from `settings` at startup."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = runtime or build_runtime(settings or Settings.from_env())
        try:
            yield
        finally:
            if own:
                app.state.runtime.close()

    routes = [
        Route("/health/liveliness", liveliness, methods=["GET"]),
        Route("/health/readiness", readiness, methods=["GET"]),
        *ORG_ROUTES,
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS)


def create_app() -> Starlette:
    """uvicorn's factory: configuration from the environment, as `orgledger serve` sets it."""
    return build_app(Settings.from_env())
