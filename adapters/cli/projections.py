"""`orgledger projections ...`: the commands that run and manage the read models."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import click

from orgledger.adapters.settings import ConfigurationError


@click.group()
def projections() -> None:
    """Run and manage the read models (projections)."""


@projections.command()
def run() -> None:
    """Keep the read models up to date; runs until SIGTERM or Ctrl-C.

    Only one projector is active per schema (PostgreSQL) or data folder (SQLite, for
    `serve --no-projector`): a second one waits for the first to stop."""
    from orgledger.adapters.cli.main import fail, load_settings
    from orgledger.adapters.http.request_log import configure_logging
    from orgledger.adapters.runtime import ledger_env

    settings = load_settings()
    try:
        ledger_env(settings)
    except ConfigurationError as e:
        fail(str(e))
    if settings.backend not in ("postgres", "sqlite"):
        fail(f"`projections run` has nothing to keep on the {settings.backend} store")
    configure_logging(settings.log_format, settings.log_level)
    service = projector_service(settings)

    def stop(signum: int, frame: FrameType | None) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    service.run()


def projector_service(settings: Any) -> Any:
    if settings.backend == "sqlite":
        from orgledger.adapters.persistence.data_files import private_folder
        from orgledger.adapters.projector.sqlite_projector import SQLiteProjectorService

        private_folder(settings.data_dir)
        return SQLiteProjectorService(settings)
    from orgledger.adapters.projector.postgres_projector import ProjectorService

    return ProjectorService(settings)
