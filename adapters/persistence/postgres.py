"""PostgreSQL wiring: DATABASE_URL, connection budgets, the schema, and the advisory locks.

Connection budget (PostgreSQL's default max_connections is 100, 3 of them reserved):
an API worker holds at most 5 event-store + 5 view connections + 1 (the read cache's version
question) + 1 (readiness probes) = 12; the projector at most 2 + 2 + 1 (its lock/LISTEN connection)
= 5. `serve --workers 4` therefore needs at most 4 x 12 + 5 = 53 connections, which leaves room for
a standby projector and admin sessions.
POSTGRES_POOL_SIZE / POSTGRES_MAX_OVERFLOW in the environment override the per-pool numbers.
"""

from __future__ import annotations

import hashlib
import os
import re
import select
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
import eventsourcing.postgres
import psycopg
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import get_topic
from psycopg import sql
from psycopg_pool import ConnectionPool

from orgledger.adapters.persistence.recorders import GuardedPostgresRecorder
from orgledger.projections.projector import LocalProgress

from orgledger.adapters.settings import ConfigurationError, Settings

SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class PoolSize:
    """One psycopg pool: `size` connections kept open, up to `overflow` more under load."""

    size: int
    overflow: int

    @property
    def most(self) -> int:
        return self.size + self.overflow


# Per process role and pool; see the module docstring for the sum.
POOLS = {
    "api": {"events": PoolSize(2, 3), "views": PoolSize(2, 3)},
    "projector": {"events": PoolSize(1, 1), "views": PoolSize(1, 1)},
}
PROJECTOR_LOCK_CONNECTIONS = 1
READ_CACHE_VERSION_CONNECTIONS = 1  # adapters/read_cache.PostgresViewsVersion, per API worker
READINESS_CONNECTIONS = 1  # adapters/health.PostgresProbe, per API worker


def connections_needed(workers: int, projectors: int = 1) -> int:
    """The most connections `serve --workers N` plus its projectors can hold at once."""
    api = sum(p.most for p in POOLS["api"].values()) + READ_CACHE_VERSION_CONNECTIONS + READINESS_CONNECTIONS
    projector = sum(p.most for p in POOLS["projector"].values()) + PROJECTOR_LOCK_CONNECTIONS
    return workers * api + projectors * projector


@dataclass(frozen=True)
class Target:
    """Where DATABASE_URL points: every libpq parameter it names (sslmode, options, ...)."""

    params: Mapping[str, str]

    @property
    def host(self) -> str:
        return self.params["host"]

    @property
    def port(self) -> str:
        return self.params.get("port") or "5432"

    @property
    def user(self) -> str:
        return self.params.get("user") or "postgres"

    @property
    def password(self) -> str:
        return self.params.get("password") or ""

    @property
    def dbname(self) -> str:
        return self.params["dbname"]

    def conninfo(self) -> str:
        # Keepalives on the server's end too: it frees a cut-off projector's lock for a standby
        # within about 25 s, not after TCP's 2 hours. What DATABASE_URL sets itself wins; its
        # `options` come after ours, so they win too.
        keepalive_options = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
        options = " ".join(o for o in (keepalive_options, self.params.get("options")) if o)
        return psycopg.conninfo.make_conninfo(
            **{**CLIENT_TIMEOUTS, **self.params, "user": self.user, "port": self.port, "options": options})

    def pool_conninfo(self) -> str:
        """DATABASE_URL's parameters for eventsourcing's pools, which take only host, port, user,
        password and dbname as arguments: psycopg adds this string to each connection's."""
        return psycopg.conninfo.make_conninfo(**self.params)

    def probe_conninfo(self, seconds: float) -> str:
        """For a health probe that must answer within `seconds`: connecting, each statement and
        unacknowledged writes all give up within about that long, whatever DATABASE_URL says."""
        ms = int(seconds * 1000)
        options = " ".join(o for o in (self.params.get("options"), f"-c statement_timeout={ms}") if o)
        return psycopg.conninfo.make_conninfo(**{
            **self.params, "user": self.user, "port": self.port, "options": options,
            "connect_timeout": max(int(seconds), 2), "application_name": "orgledger readiness",
            "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 1, "keepalives_count": 2,
            "tcp_user_timeout": ms,
        })


# How every connection behaves when PostgreSQL stops answering: a connect gives up after a few
# seconds, and a connection whose data is not acknowledged (a cut network) fails after
# tcp_user_timeout instead of TCP's minutes. A request then meets its deadline, and a commit
# that was sent learns its fate in bounded time (deadline.py).
CLIENT_TIMEOUTS: dict[str, Any] = {
    "connect_timeout": 3, "tcp_user_timeout": 5000,
    "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
}
# Seconds a request waits for a pooled connection before it is answered 503.
POOL_TIMEOUT = 5


def configure_pool(datastore: PostgresDatastore, conninfo: str) -> None:
    """Every libpq parameter of DATABASE_URL, and CLIENT_TIMEOUTS where it sets none, on each
    connection of the datastore's pool (which is not open yet: eventsourcing opens it on use);
    and the checkout check below in place of a round trip per checkout."""
    datastore.pool.conninfo = conninfo
    given = psycopg.conninfo.conninfo_to_dict(conninfo)
    datastore.pool.kwargs.update({k: v for k, v in CLIENT_TIMEOUTS.items() if k not in given})
    if getattr(datastore.pool, "_check", None) is not None:  # pre_ping: psycopg_pool's own check
        datastore.pool._check = check_at_checkout


def check_at_checkout(conn: psycopg.Connection[Any]) -> None:
    """Raise if a pooled connection is no longer usable, so the pool replaces it.

    The pool's own check sends an empty query, a round trip at every checkout: three or four per
    command. A connection the server has closed (a restart, a terminated backend, an idle
    timeout) has its goodbye, or the end of the stream, waiting on its socket; only then is the
    round trip made. One whose network went silent is found by the timeouts (CLIENT_TIMEOUTS),
    as it was with the round trip."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    readable, _, _ = select.select([conn.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(conn)


def parse_database_url(url: str) -> Target:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in SCHEMES:
        raise ConfigurationError(
            f"DATABASE_URL must start with postgresql:// or postgres://, not {scheme or 'something else'}"
        )
    try:
        # libpq's own parser (through psycopg): percent-decoding, several hosts, and every query
        # parameter libpq knows (sslmode, sslrootcert, options, connect_timeout, ...).
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as e:
        raise ConfigurationError(f"DATABASE_URL cannot be read: {str(e).strip()}") from None
    if not params.get("host") or not params.get("dbname"):
        raise ConfigurationError(
            "DATABASE_URL needs a host and a database: postgresql://user:password@host:5432/dbname"
        )
    ports = str(params.get("port") or "5432").split(",")
    if not all(p.isdigit() and 0 < int(p) < 65536 for p in ports):
        raise ConfigurationError(f"DATABASE_URL has a bad port: {params['port']!r}")
    return Target({k: str(v) for k, v in params.items()})


class PostgresFactory(eventsourcing.postgres.PostgresFactory):
    """eventsourcing's factory for the event store, with all of DATABASE_URL's parameters (its
    environment has no setting for sslmode, options and the like) and bounded timeouts."""

    CONNINFO = "POSTGRES_CONNINFO"

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        configure_pool(self.datastore, self.env.get(self.CONNINFO) or "")


def _pool(role: str, pool: str, environ: Mapping[str, str]) -> PoolSize:
    default = POOLS[role][pool]
    return PoolSize(
        int(environ.get("POSTGRES_POOL_SIZE") or default.size),
        int(environ.get("POSTGRES_MAX_OVERFLOW") or default.overflow),
    )


def ledger_env(settings: Settings, role: str = "api") -> dict[str, str]:
    """eventsourcing's environment for the event store in PostgreSQL."""
    target = parse_database_url(settings.database_url or "")
    pool = _pool(role, "events", os.environ)
    return {
        "PERSISTENCE_MODULE": get_topic(PostgresFactory),
        PostgresFactory.CONNINFO: target.pool_conninfo(),
        "POSTGRES_DBNAME": target.dbname,
        "POSTGRES_HOST": target.host,
        "POSTGRES_PORT": target.port,
        "POSTGRES_USER": target.user,
        "POSTGRES_PASSWORD": target.password,
        "POSTGRES_SCHEMA": settings.pg_schema,
        "POSTGRES_POOL_SIZE": str(pool.size),
        "POSTGRES_MAX_OVERFLOW": str(pool.overflow),
        "POSTGRES_CONNECT_TIMEOUT": str(POOL_TIMEOUT),
        # A broken connection found at checkout is replaced instead of failing a request.
        "POSTGRES_PRE_PING": "y",
        # The append condition is checked in Python inside the insert transaction; the
        # single-round-trip insert function would bypass it.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "APPLICATION_RECORDER_TOPIC": get_topic(GuardedPostgresRecorder),
    }


def view_datastore(settings: Settings, role: str = "api") -> PostgresDatastore:
    target = parse_database_url(settings.database_url or "")
    pool = _pool(role, "views", os.environ)
    datastore = PostgresDatastore(
        dbname=target.dbname, host=target.host, port=target.port, user=target.user,
        password=target.password, schema=settings.pg_schema, pool_size=pool.size,
        max_overflow=pool.overflow, pre_ping=True, connect_timeout=POOL_TIMEOUT,
        idle_in_transaction_session_timeout=5,
    )
    configure_pool(datastore, target.pool_conninfo())  # as PostgresFactory does for the events
    return datastore


_local_progress: dict[tuple[str, str], LocalProgress] = {}
_local_progress_lock = threading.Lock()


def local_progress(settings: Settings) -> LocalProgress:
    """One per database and schema in this process: `serve` runs the projector in the same
    process as its API (with one worker), and its commands wait on this instead of polling."""
    key = (settings.database_url or "", settings.pg_schema)
    with _local_progress_lock:
        return _local_progress.setdefault(key, LocalProgress())


def lock_key(settings: Settings, purpose: str) -> int:
    """A signed 64-bit advisory-lock key, one per schema and purpose."""
    digest = hashlib.blake2b(f"orgledger:{settings.pg_schema}:{purpose}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class DatabaseUnreachable(Exception):
    """PostgreSQL refused or did not answer a connection; the message says where and why."""


def one_line(error: Exception) -> str:
    """libpq's reason on one line, without the address (the caller names it) or FATAL's padding."""
    text = " ".join(str(error).split())
    return re.sub(r'^connection failed: (connection to server at .*?, port \d+ failed: )?(FATAL: )?', "", text)


def check_reachable(settings: Settings, timeout: int = 5) -> None:
    """One connection, with a short timeout: a command fails within seconds with libpq's reason,
    rather than after the pools' 30 s of retries with none. DATABASE_URL's connect_timeout wins."""
    target = parse_database_url(settings.database_url or "")
    try:
        with psycopg.connect(target.conninfo(), connect_timeout=target.params.get("connect_timeout", timeout)):
            pass
    except psycopg.OperationalError as e:
        raise DatabaseUnreachable(
            f"cannot connect to PostgreSQL at {target.host}:{target.port}: {one_line(e)}") from None


def connect(settings: Settings) -> psycopg.Connection[Any]:
    """A connection of its own, outside the pools: for session locks and LISTEN."""
    target = parse_database_url(settings.database_url or "")
    return psycopg.connect(target.conninfo(), autocommit=True)


@contextmanager
def setup_lock(settings: Settings) -> Iterator[None]:
    """Creates the schema, then serialises table creation across processes (serve workers
    start together; concurrent CREATE ... IF NOT EXISTS can still collide in PostgreSQL)."""
    with connect(settings) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(settings, "setup"),))
        try:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(settings.pg_schema)))
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(settings, "setup"),))


def batch_fence(settings: Settings) -> Callable[[Any], None]:
    """Serialises projector batches in the database: if two projectors ever overlap (a lost
    lock connection), the second reads the positions the first committed and skips those."""
    key = lock_key(settings, "batch")

    def fence(cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(?)", (key,))

    return fence


def projector_pid(conn: psycopg.Connection[Any], settings: Settings) -> int | None:
    """The server process id of the session holding this schema's projector lock, if any."""
    key = lock_key(settings, "projector") & 0xFFFFFFFFFFFFFFFF
    row = conn.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 1",
        (key >> 32, key & 0xFFFFFFFF),
    ).fetchone()
    return None if row is None else int(row[0])
