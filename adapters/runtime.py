"""The composition root: builds the event store, the application and the read models."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteConnection, SQLiteDatastore
from eventsourcing.utils import get_topic

from orgledger.adapters.persistence.recorders import GuardedPOPOFactory, GuardedSQLiteRecorder
from orgledger.application.commands import Done
from orgledger.application.deadline import current_deadline
from orgledger.application.email_backfill import backfill_users_by_email
from orgledger.application.ledger import OrgLedger
from orgledger.domain.errors import OrganizationNotFoundError
from orgledger.projections.keys import KeysView
from orgledger.projections.audit import AuditView
from orgledger.projections.base import Projection
from orgledger.projections import rebuild
from orgledger.projections.organizations.view import OrganizationsView
from orgledger.projections.projector import Projector
from orgledger.projections.store import Cursor, ViewStore

from orgledger.adapters.http import access
from orgledger.adapters.persistence import postgres
from orgledger.adapters.projector import sqlite_workers
from orgledger.adapters.persistence.data_files import prepare_sqlite_data
from orgledger.adapters.persistence.thread_connections import ThreadConnections
from orgledger.adapters.http.auth import Authenticator, Caller
from orgledger.adapters.http.queries import Queries
from orgledger.adapters.http.read_cache import ReadCache, views_version
from orgledger.adapters.settings import ConfigurationError, Settings

log = logging.getLogger("orgledger")
# How long a command outside any request (the CLI, tests) waits for a projector elsewhere.
SETTLE_TIMEOUT = 10.0
# A request past its deadline still gives the views this long to show its committed change.
MIN_SETTLE = 0.1


@dataclass
class Runtime:
    settings: Settings
    ledger: OrgLedger
    store: ViewStore
    projector: Projector
    organizations: OrganizationsView
    authenticator: Authenticator
    keys: KeysView
    # Answers of the read endpoints and callers of keys, valid until the views change.
    reads: ReadCache
    # The questions requests ask of the views (through `reads`).
    queries: Queries
    # True when this process keeps the views itself; False when a projector elsewhere does.
    inline_projector: bool
    # True when the views are a local SQLite file, which bounded reads may query on the event loop.
    local_views: bool
    # Projections whose tables an older orgledger created with another layout: only when built
    # without catching up (`orgledger check`); otherwise they were rebuilt on the way.
    outdated_views: tuple[str, ...] = ()

    def settle(self, position: int) -> bool:
        """Read-your-writes: True once the views show everything up to `position`; False if
        they could not get there within the request's deadline (a projector down or stuck)."""
        try:
            self._reach(position)
        except Exception as e:  # the change is committed: the caller is told the views lag
            log.warning("views did not reach position %s: %s", position, e)
            return False
        return True

    def sync(self) -> None:
        """The views up to the log's head, for callers outside a request (the CLI, tests); raises
        ProjectionError or ViewsBehind if they cannot get there."""
        self._reach(self.ledger.recorder.max_notification_id() or 0)

    def _reach(self, position: int) -> None:
        deadline = current_deadline.get()
        timeout = SETTLE_TIMEOUT if deadline is None else max(deadline.remaining(), MIN_SETTLE)
        if self.inline_projector:
            self.projector.catch_up(until=position)
        else:
            self.projector.wait_for(position, timeout)

    def read(self) -> AbstractContextManager[Cursor]:
        """A view transaction, for callers outside a request (the CLI, tests)."""
        return self.store.transaction(commit=False)

    def org_after(self, done: Done, organization_id: str) -> dict[str, Any]:
        """The organization as the views show it once `done` is applied (outside a request)."""
        self.settle(done.position)
        org = self.queries.org(organization_id)
        if org is None:
            # Deleted by a concurrent command after ours committed: answer what a read would.
            raise OrganizationNotFoundError(f"Organization not found for organization_id={organization_id}")
        return org

    def projection(self, name: str) -> Projection:
        """The read model called `name` (as `orgledger projections status` lists them)."""
        return next(p for p in self.projector.projections if p.name == name)

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        return self.authenticator.authenticate(headers)

    def authorize(self, route: str, caller: Caller, body: dict[str, Any], query: dict[str, str]) -> None:
        access.authorize(self.queries, route, caller, body, query)

    def close(self) -> None:
        self.reads.close()
        self.ledger.close()
        self.store.close()


def ledger_env(settings: Settings, role: str = "api") -> dict[str, str]:
    if settings.backend == "popo":
        return {
            "PERSISTENCE_MODULE": get_topic(GuardedPOPOFactory),
        }
    if settings.backend == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.data_dir / "events.db"),
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": get_topic(GuardedSQLiteRecorder),
        }
    if settings.backend == "postgres":
        return postgres.ledger_env(settings, role)
    raise ConfigurationError(f"unknown backend {settings.backend!r}")


def check_servable(settings: Settings, workers: int) -> None:
    """Refuse configurations that would serve wrong answers, before any port is opened."""
    ledger_env(settings)
    old_default = Path("data", "events.db")
    if (settings.backend == "sqlite" and settings.default_data_dir and old_default.is_file()
            and not (settings.data_dir / "events.db").exists()):
        # ./data was the default once: serving an empty store beside it would split the log in two.
        raise ConfigurationError(
            f"ORGLEDGER_DATA_DIR is not set, so the store would be a new one in {settings.data_dir}, "
            f"but {old_default.resolve()} exists here: set ORGLEDGER_DATA_DIR=./data to serve it"
        )


def view_datastore(settings: Settings, role: str = "api") -> SQLiteDatastore | PostgresDatastore:
    if settings.backend == "postgres":
        return postgres.view_datastore(settings, role)
    if settings.backend == "popo":
        return SQLiteDatastore(f"file:views-{uuid.uuid4().hex}?mode=memory&cache=shared")
    # One connection per thread (thread_connections.py), opened once: a connection opened and
    # closed per request would recompile its statements each time.
    datastore = SQLiteDatastore(str(settings.data_dir / "views.db"), lock_timeout=30,
                                pool_size=VIEW_POOL_SIZE)
    datastore.pool = ViewsConnectionPool(db_name=datastore.pool.db_name, lock_timeout=30,
                                         pool_size=VIEW_POOL_SIZE)
    return datastore


VIEW_POOL_SIZE = 40


class ViewsConnectionPool(ThreadConnections):
    """Connections to views.db, which commit without waiting for the disk.

    The views are derived from the event log, whose commits do wait for the disk. In WAL mode
    synchronous=NORMAL is still atomic: a power cut can only lose the last view transactions
    whole, each with the positions it moved, and the catch-up that `serve` runs before it
    answers applies those events again from the log. This takes one flush per command batch
    off the path of every command."""

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        connection.cursor().execute("PRAGMA synchronous=NORMAL")
        return connection


log = logging.getLogger("orgledger.projections")

# Read models besides the organizations and keys views, which the runtime holds by name.
EXTRA_PROJECTIONS: tuple[type[Projection], ...] = (AuditView,)


def projection_classes() -> tuple[type[Projection], ...]:
    """Every read model, in the order the projector applies events to them."""
    return (OrganizationsView, KeysView, *EXTRA_PROJECTIONS)


_create_lock = threading.Lock()


def build_runtime(settings: Settings, *, catch_up: bool = True, role: str = "api",
                  extra_projections: Sequence[Projection] = ()) -> Runtime:
    """`role` "projector" sizes the PostgreSQL pools for the one process that keeps the views;
    `extra_projections` are kept beside the standard read models (tests probe the projector so)."""
    if settings.backend == "sqlite":
        prepare_sqlite_data(settings.data_dir)
    on_postgres = settings.backend == "postgres"
    # serve --workers N on SQLite: the supervisor's projector keeps the views of this process.
    elsewhere = sqlite_workers.projector_elsewhere(settings, role)
    with _create_lock, _setup(settings):
        ledger = OrgLedger(env=ledger_env(settings, role))
        if catch_up:  # `orgledger check` changes nothing
            # Before any command: they find users by email in the index alone.
            backfill_users_by_email(ledger)
        store = ViewStore(view_datastore(settings, role))
        organizations, keys = OrganizationsView(), KeysView()
        extras = [cls() for cls in EXTRA_PROJECTIONS]
        projections = [organizations, keys, *extras, *extra_projections]
        projector = Projector(
            ledger, store, projections,
            # One projector keeps the views (`projections run`, or the one `serve` starts); a
            # process that serves requests only waits for it to reach its own writes.
            fence=postgres.batch_fence(settings) if on_postgres else None,
            local_progress=(postgres.local_progress(settings) if on_postgres
                            else sqlite_workers.watched_views(settings, store, projections) if elsewhere
                            else None),
        )
        outdated = _current_layouts(ledger, store, projector, rebuild_outdated=catch_up)
    reads = ReadCache(views_version(store, projector.projections), max_bytes=settings.read_cache_mb * 1024 * 1024)
    audit = next(p for p in extras if isinstance(p, AuditView))
    queries = Queries(store, organizations, keys, audit, reads)
    runtime = Runtime(
        settings, ledger, store, projector, organizations,
        Authenticator(settings.master_key or "", access.VirtualKeys(queries)), keys, reads, queries,
        inline_projector=not (on_postgres or elsewhere), local_views=settings.backend == "sqlite",
        outdated_views=outdated,
    )
    if runtime.inline_projector and catch_up and isinstance(ledger.recorder, GuardedSQLiteRecorder):
        # The writer of each batch shows it in the views before its callers wake (group_commit.py),
        # unless that would make it wait: then each caller settles on its own, as before.
        ledger.recorder.group.after_commit.append(projector.catch_up_written)
    if runtime.inline_projector and catch_up:  # `orgledger check` looks at the views as they are
        # Serving starts even if the views cannot catch up: readiness reports it.
        runtime.settle(ledger.recorder.max_notification_id() or 0)
    return runtime


def _current_layouts(ledger: OrgLedger, store: ViewStore, projector: Projector, *,
                     rebuild_outdated: bool) -> tuple[str, ...]:
    """Create the views' tables; views whose tables an older orgledger created with another
    layout are rebuilt from the log first (once, at the first start after such an upgrade; with
    PostgreSQL, under the setup lock, so the other processes wait for it). Returns the names of
    those left outdated (`rebuild_outdated` False: `orgledger check` changes nothing)."""
    stale = rebuild.outdated_layouts(store, projector.projections)
    if stale and not rebuild_outdated:
        return tuple(p.name for p in stale)
    if stale:
        names = ", ".join(p.name for p in stale)
        log.warning("views %s have an older layout: rebuilding them from the event log", names)
        done = rebuild.rebuild_all(ledger, store, [type(p) for p in stale])
        log.warning("views rebuilt to the current layout: %s", done.summary())
    projector.create_tables()
    return ()


def _setup(settings: Settings) -> AbstractContextManager[None]:
    if settings.backend == "sqlite":
        return sqlite_workers.setup_lock(settings)
    return postgres.setup_lock(settings) if settings.backend == "postgres" else nullcontext()
