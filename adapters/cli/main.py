"""The `orgledger` command line: serve, and the operations on the store."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

import click

from orgledger.adapters.cli.errors import OneLineErrors, fail
from orgledger.adapters.cli.projections import projections
from orgledger.adapters.persistence.data_files import private_folder
from orgledger.adapters.settings import ConfigurationError, Settings


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as e:
        fail(str(e))
        raise


@click.group(cls=OneLineErrors)
@click.version_option(package_name="orgledger", message="%(prog)s %(version)s")
def main() -> None:
    """orgledger: an event-sourced, LiteLLM-compatible organization API."""


@main.command()
# As LiteLLM's proxy reads them; a flag wins over its variable.
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True, show_envvar=True)
@click.option("--port", envvar="PORT", default=4000, show_default=True, show_envvar=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--graceful-timeout", default=10, show_default=True, type=int,
              help="Seconds to finish requests in flight after SIGTERM.")
@click.option("--no-projector", is_flag=True,
              help="Do not start a projector here (one runs elsewhere: `projections run`). "
                   "SQLite with --workers 1 keeps its views itself unless this is given.")
@click.option("--http", "http_impl", default="auto", show_default=True,
              type=click.Choice(["auto", "httptools", "h11"]),
              help="HTTP parser: auto takes httptools (C), h11 is pure Python.")
@click.option("--loop", "loop_impl", default="auto", show_default=True,
              type=click.Choice(["auto", "uvloop", "asyncio"]),
              help="Event loop: auto takes uvloop, asyncio is the standard library's.")
def serve(host: str, port: int, workers: int, graceful_timeout: int, no_projector: bool,
          http_impl: str, loop_impl: str) -> None:
    """Serve the HTTP API. SIGTERM: stop accepting, finish requests in flight, close the store, exit 0."""
    import uvicorn

    from orgledger.adapters.cli.check import store_location
    from orgledger.adapters.http.metrics import MULTIPROC_ENV, prepare_multiprocess_dir
    from orgledger.adapters.http.request_log import configure_logging, uvicorn_level
    from orgledger.adapters.runtime import check_servable
    from orgledger.adapters.supervision import GRACE_ENV

    settings = load_settings()
    if not settings.master_key:
        fail("LITELLM_MASTER_KEY is not set. Set it to the proxy's master key (e.g. sk-...); "
             "`make run` uses the development key sk-1234.")
    try:
        check_servable(settings, workers)
    except ConfigurationError as e:
        fail(str(e))
    if settings.backend == "postgres":
        from orgledger.adapters.persistence.postgres import check_reachable

        check_reachable(settings)  # fails in seconds, in one line, rather than in the workers
    if settings.backend == "sqlite":
        # Here rather than in a worker: a folder it cannot create is then one line, not a traceback.
        private_folder(settings.data_dir)
    os.environ.setdefault("ORGLEDGER_DATA_DIR", str(settings.data_dir))
    os.environ[GRACE_ENV] = str(graceful_timeout)  # workers outlive a dead supervisor this long at most
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # Workers must share metric files, and learn the directory before they import prometheus-client.
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="orgledger-metrics-")
        atexit.register(shutil.rmtree, os.environ[MULTIPROC_ENV], True)
    if os.environ.get(MULTIPROC_ENV):
        prepare_multiprocess_dir(Path(os.environ[MULTIPROC_ENV]))
    configure_logging(settings.log_format, settings.log_level)
    install_exit_handlers()
    projector = None
    if settings.backend == "postgres" and not no_projector:
        from orgledger.adapters.projector.postgres_projector import ProjectorService

        # In this (supervising) process, so N workers still mean one projector.
        projector = ProjectorService(settings).start()
    if settings.backend == "sqlite":
        from orgledger.adapters.projector.sqlite_workers import ELSEWHERE_ENV

        # One process keeps views.db for all the workers; they learn it before they start.
        os.environ.pop(ELSEWHERE_ENV, None)
        if workers > 1 or no_projector:
            os.environ[ELSEWHERE_ENV] = "1"
        if workers > 1 and not no_projector:
            from orgledger.adapters.projector.sqlite_projector import SQLiteProjectorService

            projector = SQLiteProjectorService(settings).start()
    logging.getLogger("orgledger").info("store: %s", store_location(settings))
    from orgledger.adapters import spread_workers

    try:
        (spread_workers.run if workers > 1 else uvicorn.run)(
            "orgledger.adapters.http.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            http=http_impl,
            loop=loop_impl,
            timeout_graceful_shutdown=graceful_timeout,
            # Its "running on" line becomes orgledger's "listening on" (request_log.ListeningLine).
            log_level=uvicorn_level(settings.log_level),
            log_config=None,
            access_log=False,
        )
    finally:
        if projector is not None:
            projector.stop()


def install_exit_handlers() -> None:
    """uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for the handler
    it found. These handlers make that a plain exit: 0 after SIGTERM (a deploy asked us to stop),
    130 after Ctrl-C, as shells expect. A signal during start-up exits the same way."""

    def exit_after(signum: int, frame: FrameType | None) -> None:
        sys.exit(0 if signum == signal.SIGTERM else 128 + signum)

    signal.signal(signal.SIGTERM, exit_after)
    signal.signal(signal.SIGINT, exit_after)


@main.command()
def check() -> None:
    """Check the configuration and the store as `serve` would see them; exit 1 on any problem."""
    from orgledger.adapters.cli.check import run_checks

    settings = load_settings()
    problems = 0
    for finding in run_checks(settings):
        click.echo(finding.line())
        problems += not finding.ok
    if problems:
        click.echo(f"orgledger check: {problems} problem(s) found", err=True)
        sys.exit(1)


def _register_subcommands() -> None:
    # Each command family lives in its own module, so branches add commands without touching serve.
    from orgledger.adapters.cli.audit import audit
    from orgledger.adapters.cli.projection_ops import rebuild, status

    main.add_command(audit)
    projections.add_command(status)
    projections.add_command(rebuild)
    main.add_command(projections)


_register_subcommands()

if __name__ == "__main__":
    main()
