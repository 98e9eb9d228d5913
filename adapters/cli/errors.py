"""Errors an operator can act on end a command with one line naming the cause, not a traceback."""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import Any

import click
import eventsourcing.persistence
import psycopg

from orgledger.adapters.persistence.postgres import DatabaseUnreachable, one_line
from orgledger.adapters.settings import ConfigurationError, Settings

# The drivers' errors, and eventsourcing's classes that wrap them.
STORE_ERRORS = (psycopg.Error, sqlite3.Error, eventsourcing.persistence.PersistenceError)


def fail(message: str) -> None:
    click.echo(f"orgledger: {message}", err=True)
    sys.exit(2)


class OneLineErrors(click.Group):
    """The `orgledger` group: known failures of any subcommand become `orgledger: <cause>`, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        if debugging():
            return super().invoke(ctx)  # the whole traceback, for whoever asked for DEBUG
        try:
            return super().invoke(ctx)
        except (ConfigurationError, DatabaseUnreachable) as e:
            fail(str(e))
        except STORE_ERRORS as e:
            fail(f"cannot use the {store()}: {one_line(e)}")
        except BrokenPipeError:
            # The reader went away (`orgledger audit log | head`): stop quietly, as cat does.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except OSError as e:
            # As coreutils word it: "orgledger: out/audit.jsonl: No such file or directory".
            where = f"{e.filename}: " if e.filename else ""
            fail(f"{where}{e.strerror or e}")


def store() -> str:
    """The store the settings name, as `orgledger check` names it (never the password)."""
    from orgledger.adapters.cli.check import store_location

    try:
        return store_location(Settings.from_env())
    except Exception:  # the settings were fine a moment ago; this is only the message
        return "store"


def debugging() -> bool:
    try:
        return Settings.from_env().log_level == "DEBUG"
    except ConfigurationError:
        return False
