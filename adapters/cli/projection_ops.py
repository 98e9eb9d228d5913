"""`orgledger projections status|rebuild`: how far each read model is behind, and rebuilding
one from the log while `serve` keeps running. Registered on the `projections` group in main.py."""

from __future__ import annotations

import sys

import click

from orgledger.application.ledger import OrgLedger
from orgledger.projections import rebuild as ops
from orgledger.projections.base import POSITIONS_DDL
from orgledger.projections.failures import ProjectionError, short
from orgledger.projections.store import ViewStore

from orgledger.adapters.runtime import projection_classes
from orgledger.adapters.settings import ConfigurationError, Settings
from orgledger.adapters.cli.store_access import open_ledger, open_views

NAMES = [cls.name for cls in projection_classes()]


def _open() -> tuple[OrgLedger, ViewStore]:
    try:
        settings = Settings.from_env()
        return open_ledger(settings), open_views(settings)
    except ConfigurationError as e:
        click.echo(f"orgledger: {e}", err=True)
        sys.exit(2)


def _fail(cause: str, error: BaseException) -> None:
    """One line on stderr, exit status 1: the live views are unchanged, nothing was left behind."""
    notes = " ".join(getattr(error, "__notes__", ()))
    click.echo(f"orgledger: rebuild failed, the live views are unchanged: {cause}"
               f"{' ' + notes if notes else ''}", err=True)
    sys.exit(1)


@click.command("status")
def status() -> None:
    """One line per projection: name position head lag."""
    app, store = _open()
    try:
        with store.transaction() as cur:
            cur.execute(POSITIONS_DDL)  # views never opened yet: every position is 0
        click.echo(f"{'name':<16} {'position':>10} {'head':>10} {'lag':>10}")
        for s in ops.status(app, store, [cls() for cls in projection_classes()]):
            click.echo(f"{s.name:<16} {s.position:>10} {s.head:>10} {s.lag:>10}")
    finally:
        app.close()
        store.close()


@click.command("rebuild")
@click.argument("name", required=False, type=click.Choice(NAMES))
@click.option("--all", "everything", is_flag=True, help="Rebuild every projection.")
@click.option("--batch-size", default=ops.BATCH_SIZE, show_default=True, type=click.IntRange(min=1),
              help="Events per transaction while building.")
def rebuild(name: str | None, everything: bool, batch_size: int) -> None:
    """Rebuild from the log beside the live view, then switch over atomically."""
    from tqdm import tqdm

    if bool(name) == everything:
        click.echo("orgledger: name one projection or give --all", err=True)
        sys.exit(2)
    chosen = [cls for cls in projection_classes() if everything or cls.name == name]
    app, store = _open()
    try:
        head = app.recorder.max_notification_id() or 0
        # One pass over the log feeds every chosen projection: decoding is shared.
        with tqdm(total=head, unit="ev", desc=", ".join(cls.name for cls in chosen),
                  disable=not sys.stderr.isatty(), leave=False) as bar:
            done = ops.rebuild_all(app, store, chosen, batch_size=batch_size, progress=bar.update)
        click.echo(f"rebuilt {done.summary()}")
    except ProjectionError as e:
        if e.projection:
            what = f"projection {e.projection.removeprefix(ops.PREFIX)} cannot apply the event"
        else:
            what = "no projection can read the event"
        _fail(f"{what} at position {e.position}: {short(e.cause)}", e)
    except Exception as e:  # the store went away, a lock timed out...
        _fail(short(e), e)
    finally:
        app.close()
        store.close()
