from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from orgledger.adapters.persistence import postgres
from orgledger.adapters.runtime import check_servable
from orgledger.adapters.settings import ConfigurationError, Settings


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_database_url_names_host_port_user_password_and_database(scheme: str) -> None:
    target = postgres.parse_database_url(f"{scheme}://ledger:p%40ss%3Aw@db.internal:6543/orgs")
    assert (target.host, target.port, target.user, target.password, target.dbname) == (
        "db.internal", "6543", "ledger", "p@ss:w", "orgs")


def test_database_url_defaults_to_port_5432_and_no_password() -> None:
    target = postgres.parse_database_url("postgresql://postgres@127.0.0.1/test")
    assert (target.port, target.password) == ("5432", "")


def test_database_url_query_parameters_reach_every_connection() -> None:
    url = ("postgresql://u:pw@db:5433/orgs?sslmode=verify-full&sslrootcert=/etc/ca.pem"
           "&options=-c%20statement_timeout%3D5s&connect_timeout=3&application_name=ledger")
    target = postgres.parse_database_url(url)
    wanted = {"sslmode": "verify-full", "sslrootcert": "/etc/ca.pem", "options": "-c statement_timeout=5s",
              "connect_timeout": "3", "application_name": "ledger"}
    # The pools' connections (eventsourcing's and the views') get them all...
    pool = conninfo_to_dict(target.pool_conninfo())
    assert wanted.items() <= pool.items()
    assert conninfo_to_dict(postgres.ledger_env(Settings(database_url=url, backend="postgres"))[
        postgres.PostgresFactory.CONNINFO]) == pool
    # ... and so do the connections of their own, whose keepalive options come first.
    own = conninfo_to_dict(target.conninfo())
    assert own["options"].endswith(" -c statement_timeout=5s") and "tcp_keepalives_idle" in own["options"]
    assert {k: own[k] for k in ("sslmode", "sslrootcert", "connect_timeout", "application_name")} == {
        k: wanted[k] for k in ("sslmode", "sslrootcert", "connect_timeout", "application_name")}


def test_several_hosts_are_kept_as_libpq_reads_them() -> None:
    target = postgres.parse_database_url("postgresql://u@db1:5432,db2:5433/orgs?target_session_attrs=read-write")
    assert (target.host, target.port) == ("db1,db2", "5432,5433")
    assert conninfo_to_dict(target.pool_conninfo())["target_session_attrs"] == "read-write"


@pytest.mark.parametrize("url, says", [
    ("mysql://u@h/db", "postgresql://"),
    ("postgresql://u@h", "needs a host and a database"),
    ("postgresql://u@h/db?sslmod=require", 'invalid URI query parameter: "sslmod"'),
    ("postgresql://u@h:notaport/db", "bad port"),
    ("postgresql://u@h:70000/db", "bad port"),
])
def test_bad_database_urls_are_refused_with_a_reason(url: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        check_servable(Settings(database_url=url, backend="postgres"), workers=1)


def test_the_schema_and_pools_reach_eventsourcing() -> None:
    env = postgres.ledger_env(Settings(database_url="postgres://u:pw@h:5433/db", pg_schema="tenant_a",
                                       backend="postgres"))
    assert env["PERSISTENCE_MODULE"].endswith(":PostgresFactory")
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("h", "5433", "db")
    assert env["POSTGRES_SCHEMA"] == "tenant_a"
    assert env["APPLICATION_RECORDER_TOPIC"].endswith(":GuardedPostgresRecorder")


def test_four_workers_and_a_projector_stay_well_under_max_connections() -> None:
    # 4 workers x (5 event-store + 5 view connections + 1 read-cache version + 1 readiness)
    # + projector (2 + 2 + 1 lock) = 53.
    assert postgres.connections_needed(workers=4) == 53
    assert postgres.connections_needed(workers=4, projectors=2) < 100 - 3


def test_workers_are_allowed_on_sqlite_and_postgres() -> None:
    # SQLite's workers share one projector (adapters/projector/sqlite_projector.py), as PostgreSQL's do.
    check_servable(Settings(backend="sqlite"), workers=2)
    check_servable(Settings(database_url="postgresql://u@h/db", backend="postgres"), workers=4)


def test_lock_keys_differ_per_schema_and_purpose() -> None:
    a, b = Settings(pg_schema="a"), Settings(pg_schema="b")
    keys = {postgres.lock_key(s, p) for s in (a, b) for p in ("projector", "batch", "setup")}
    assert len(keys) == 6
