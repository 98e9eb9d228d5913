"""`orgledger audit ...`: the event store itself, read without any projection."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import msgspec

from orgledger.projections.log import reader as eventlog
from orgledger.projections.log import export
from orgledger.projections.log.replay import ReplayError, organization_state

from orgledger.adapters.persistence.data_files import open_private
from orgledger.adapters.settings import ConfigurationError, Settings
from orgledger.adapters.cli.store_access import open_ledger
from orgledger.adapters.timeparse import parse_time

TABLE_HEADER = f"{'POSITION':>8}  {'TIMESTAMP':<27}  {'TYPE':<20}  {'ACTOR':<20}  SUBJECT"

# Control characters (C0, DEL, C1), the Unicode line and paragraph separators, and the backslash
# that escapes them: in a stored id they could start a forged line or drive the terminal.
_UNPRINTABLE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every such character escaped as Python writes it (\\n, \\x1b, \\u2028)."""
    def escape(match: re.Match[str]) -> str:
        c = match.group()
        return _ESCAPES.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
    return _UNPRINTABLE.sub(escape, text)


def _fail(message: str) -> None:
    click.echo(f"orgledger: {message}", err=True)
    sys.exit(2)


@contextmanager
def ledger() -> Iterator[Any]:
    try:
        app = open_ledger(Settings.from_env())
    except ConfigurationError as e:
        _fail(str(e))
    try:
        yield app
    finally:
        app.close()


class IsoTime(click.ParamType):
    name = "ISO8601"

    def __init__(self, end_of_day: bool = False) -> None:
        self.end_of_day = end_of_day

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_time(value, end_of_day=self.end_of_day)
        except ValueError as e:
            self.fail(str(e), param, ctx)


@click.group()
def audit() -> None:
    """Read, replay, export and verify the event log."""


@audit.command("log")
@click.option("--organization-id", help="The organization's events, its memberships' and its budgets'.")
@click.option("--user-id", help="Events about this user.")
@click.option("--changed-by", help="Events made by this user id.")
@click.option("--since", type=IsoTime(), help="From this time (inclusive).")
@click.option("--until", type=IsoTime(end_of_day=True), help="Up to this time (inclusive).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
def log(organization_id: str | None, user_id: str | None, changed_by: str | None,
        since: datetime | None, until: datetime | None, fmt: str) -> None:
    """Stream the event log in log order, filters combined with AND (constant memory)."""
    log_filter = eventlog.LogFilter(organization_id, user_id, changed_by, since, until)
    # Written to the buffered stream, flushed once at the end: click.echo flushes every line,
    # which cost a third of the time of a long log.
    out = sys.stdout
    with ledger() as app:
        if fmt == "jsonl":
            encode = msgspec.json.Encoder().encode
            for e in eventlog.filtered(app, log_filter):
                out.write(encode(e.as_line()).decode())
                out.write("\n")
        else:
            out.write(TABLE_HEADER + "\n")
            for e in eventlog.filtered(app, log_filter):
                actor = printable(e.actor.get("user_id") or "-")
                out.write(f"{e.position:>8}  {e.iso_timestamp:<27}  {e.type:<20}  "
                          f"{actor:<20}  {printable(eventlog.subject(e))}\n")
    out.flush()


@audit.command("state")
@click.option("--organization-id", required=True)
@click.option("--as-of", type=IsoTime(end_of_day=True), help="The moment to reconstruct (ISO-8601).")
@click.option("--version", type=click.IntRange(min=1), help="The organization's version (1 = as created).")
def state(organization_id: str, as_of: datetime | None, version: int | None) -> None:
    """Print the organization as /organization/info answered then, replayed from the log."""
    if (as_of is None) == (version is None):
        _fail("give exactly one of --as-of and --version")
    with ledger() as app:
        try:
            org = organization_state(app, organization_id, as_of=as_of, version=version)
        except ReplayError as e:
            click.echo(f"orgledger: {e}", err=True)
            sys.exit(1)
    click.echo(json.dumps(org, indent=2))


@audit.command("export")
@click.option("--out", required=True, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="The file to write (its folder must exist); - for standard output.")
def export_cmd(out: Path) -> None:
    """Write the log as JSONL, each line's sha256 chained to the line before."""
    to_stdout = str(out) == "-"
    with ledger() as app, (stdout_utf8() if to_stdout else open(open_private(out), "w", encoding="utf-8")) as f:
        count = export.export(app, f)
    # On stderr when the export itself is on stdout, so that a pipe gets only the export.
    click.echo(f"exported {count} events to {'standard output' if to_stdout else out}", err=to_stdout)


@contextmanager
def stdout_utf8() -> Iterator[Any]:
    """Standard output as the file would be written: UTF-8 whatever the locale (the hashes cover
    the bytes `audit verify` reads back), left open for the process."""
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", write_through=False)
    try:
        yield stream
        stream.flush()
    finally:
        stream.detach()


@audit.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(file: Path) -> None:
    """Check an export against the store; name the first entry changed, removed or reordered."""
    with ledger() as app, file.open(encoding="utf-8") as f:
        verdict = export.verify(app, f)
    click.echo(verdict.message, err=not verdict.ok)
    sys.exit(0 if verdict.ok else 1)
