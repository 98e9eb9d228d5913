"""The Starlette application: routes, lifespan and the one map from errors to responses."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orgledger.domain.permissions import only_proxy_admin

from orgledger.adapters.http import metrics
from orgledger.adapters.http.openapi.docs import docs_routes
from orgledger.adapters.http.audit_routes import ROUTES as AUDIT_ROUTES
from orgledger.adapters.http.errors import EXCEPTION_HANDLERS, json_response
from orgledger.adapters.http.health import readiness_for
from orgledger.adapters.http.identity_routes import ROUTES as IDENTITY_ROUTES
from orgledger.adapters.http.org_routes import ROUTES as ORG_ROUTES
from orgledger.adapters.http.request_log import RequestObserver, configure_logging, flush_logging
from orgledger.adapters.runtime import VIEW_POOL_SIZE, Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.adapters.supervision import follow_supervisor


# The threads that run the endpoints' blocking work, one per pooled view connection. They are a
# ThreadPoolExecutor's, whose idle threads wait on a SimpleQueue (C), rather than anyio's
# (starlette's run_in_threadpool), which wait on a queue.Queue and its Python-level Condition:
# handing a call to a thread and its result back then costs about 85 µs of CPU instead of 115.
WORKER_THREADS = VIEW_POOL_SIZE


async def liveliness(request: Request) -> Response:
    return json_response("I'm alive!")


async def readiness(request: Request) -> Response:
    status, body = await request.app.state.readiness.check()
    return json_response(body, status)


async def metrics_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    if runtime.settings.metrics_require_auth:
        caller = await run_in_threadpool(runtime.authenticate, request.headers)
        request.state.caller = caller
        if not caller.is_proxy_admin:
            raise only_proxy_admin("/metrics", caller.role, caller.user_id)
    body = await run_in_threadpool(metrics.exposition, runtime)
    return Response(body, media_type=metrics.CONTENT_TYPE)


def build_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """The HTTP app over a given runtime, or over one built from `settings` at startup."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = runtime or build_runtime(settings or Settings.from_env())
        app.state.runtime.ledger.save_observers.append(metrics.count_appended)
        app.state.readiness = readiness_for(app.state.runtime)
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="orgledger-worker"))
        if own:
            # What start-up built lives as long as the server: keep it out of the collector's
            # full passes, which otherwise stall a request for tens of milliseconds now and then.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            app.state.runtime.ledger.save_observers.remove(metrics.count_appended)
            app.state.readiness.close()
            if own:
                app.state.runtime.close()
                logging.getLogger("orgledger").info("requests finished, store closed")
            flush_logging()  # a worker process exits without atexit handlers

    # Starlette tries the routes in order, a few microseconds each: the organization routes, the
    # busiest, come first (no two routes share a method and a path, so the order changes no answer).
    routes = [
        *ORG_ROUTES,
        Route("/health/liveliness", liveliness, methods=["GET"]),
        Route("/health/liveness", liveliness, methods=["GET"]),  # LiteLLM serves both spellings
        Route("/health/readiness", readiness, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        *IDENTITY_ROUTES,
        *docs_routes(),
        *AUDIT_ROUTES,
    ]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS,
                     middleware=[Middleware(RequestObserver)])


def create_app() -> Starlette:
    """uvicorn's factory: configuration from the environment, as `orgledger serve` sets it."""
    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    follow_supervisor()  # in a worker of `serve --workers N`: no orphan may keep the port
    return build_app(settings)
