"""Opening the stores from a command-line process, found exactly as `serve` finds them."""

from __future__ import annotations

from orgledger.application.ledger import OrgLedger
from orgledger.projections.store import ViewStore

from orgledger.adapters.persistence import postgres
from orgledger.adapters.runtime import ledger_env, view_datastore
from orgledger.adapters.settings import ConfigurationError, Settings


def check_store_exists(settings: Settings) -> None:
    """Refuse to create an empty store where the operator expected an existing one, and fail
    within seconds when PostgreSQL cannot be reached."""
    if settings.backend == "postgres":
        postgres.check_reachable(settings)
    if settings.backend == "sqlite" and not (settings.data_dir / "events.db").exists():
        raise ConfigurationError(
            f"no event store at {settings.data_dir / 'events.db'}: set ORGLEDGER_DATA_DIR to the "
            "folder `orgledger serve` uses (or DATABASE_URL for PostgreSQL)"
        )


def open_ledger(settings: Settings) -> OrgLedger:
    """The event store, for reading; safe beside a running `serve` (WAL readers, PostgreSQL MVCC)."""
    check_store_exists(settings)
    return OrgLedger(env=ledger_env(settings))


def open_views(settings: Settings) -> ViewStore:
    check_store_exists(settings)
    return ViewStore(view_datastore(settings))
