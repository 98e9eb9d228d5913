"""The `orgledger` command line: serve, and the operations on the store."""

from __future__ import annotations

import os
import sys

import click

from .settings import ConfigurationError, Settings


def fail(message: str) -> None:
    click.echo(f"orgledger: {message}", err=True)
    sys.exit(2)


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as e:
        fail(str(e))
        raise


@click.group()
def main() -> None:
    """orgledger: an event-sourced, LiteLLM-compatible organization API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=4000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--graceful-timeout", default=10, show_default=True, type=int,
              help="Seconds to finish requests in flight after SIGTERM.")
def serve(host: str, port: int, workers: int, graceful_timeout: int) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from .runtime import check_servable

    settings = load_settings()
    if not settings.master_key:
        fail("LITELLM_MASTER_KEY is not set. Set it to the proxy's master key (e.g. sk-...); "
             "`make run` uses the development key sk-1234.")
    try:
        check_servable(settings, workers)
    except ConfigurationError as e:
        fail(str(e))
    os.environ.setdefault("ORGLEDGER_DATA_DIR", str(settings.data_dir))
    uvicorn.run(
        "orgledger.adapters.http:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_graceful_shutdown=graceful_timeout,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
