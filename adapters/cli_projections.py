"""`orgledger projections ...`: the commands that run and manage the read models."""

from __future__ import annotations

import signal
from types import FrameType

import click

from .settings import ConfigurationError


@click.group()
def projections() -> None:
    """Run and manage the read models (projections)."""


@projections.command()
def run() -> None:
    """Keep the read models up to date (PostgreSQL); runs until SIGTERM or Ctrl-C.

    Only one projector is active per schema: a second one waits for the first to stop."""
    from .cli import fail, load_settings
    from .projector_service import ProjectorService
    from .request_log import configure_logging
    from .runtime import ledger_env

    settings = load_settings()
    try:
        ledger_env(settings)
    except ConfigurationError as e:
        fail(str(e))
    if settings.backend != "postgres":
        fail("`projections run` needs PostgreSQL (set DATABASE_URL): on SQLite the serving "
             "process keeps its read models itself.")
    configure_logging(settings.log_format, settings.log_level)
    service = ProjectorService(settings)

    def stop(signum: int, frame: FrameType | None) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    service.run()
