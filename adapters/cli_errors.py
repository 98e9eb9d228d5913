"""Errors an operator can act on end a command with one line naming the cause, not a traceback."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
import eventsourcing.persistence
import psycopg

from .postgres import DatabaseUnreachable, one_line
from .settings import ConfigurationError

# eventsourcing wraps psycopg's errors in its own classes.
DATABASE_ERRORS = (psycopg.OperationalError, eventsourcing.persistence.OperationalError)


def fail(message: str) -> None:
    click.echo(f"orgledger: {message}", err=True)
    sys.exit(2)


class OneLineErrors(click.Group):
    """The `orgledger` group: known failures of any subcommand become `orgledger: <cause>`, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigurationError, DatabaseUnreachable) as e:
            fail(str(e))
        except DATABASE_ERRORS as e:
            fail(f"PostgreSQL failed: {one_line(e)}")
        except BrokenPipeError:
            # The reader went away (`orgledger audit log | head`): stop quietly, as cat does.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except OSError as e:
            # As coreutils word it: "orgledger: out/audit.jsonl: No such file or directory".
            where = f"{e.filename}: " if e.filename else ""
            fail(f"{where}{e.strerror or e}")
