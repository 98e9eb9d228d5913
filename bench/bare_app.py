"""A bare Starlette app: the reads' raw limit.

It answers the read paths with constant, pre-encoded JSON bodies of the real responses'
size, and runs under the uvicorn settings `orgledger serve` uses, so the only difference
left is orgledger's own work (auth, validation, the view query, shaping, encoding)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app() -> Starlette:
    folder = Path(os.environ["BENCH_BARE_DIR"])
    bodies = {p.stem: p.read_bytes() for p in folder.glob("*.json")}

    def constant(body: bytes):  # noqa: ANN202 - a Starlette endpoint
        async def answer(request: Request) -> Response:
            return Response(body, media_type="application/json")
        return answer

    routes = [Route("/health", constant(b'"ok"'))]
    routes += [Route(f"/organization/{name}", constant(body)) for name, body in bodies.items()]
    return Starlette(routes=routes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http", default="auto")
    parser.add_argument("--loop", default="auto")
    args = parser.parse_args()
    # The same settings as `orgledger serve` passes to uvicorn.
    uvicorn.run("bench.bare_app:create_app", factory=True, host="127.0.0.1", port=args.port,
                workers=1, http=args.http, loop=args.loop, timeout_graceful_shutdown=10,
                log_level="warning", log_config=None, access_log=False)


if __name__ == "__main__":
    main()
