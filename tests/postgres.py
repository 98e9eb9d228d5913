"""PostgreSQL for tests: a fresh schema in database `test` per test, dropped afterwards.

In CI (CI=true) an unreachable PostgreSQL fails the PostgreSQL tests; elsewhere they skip."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from orgledger.adapters.settings import Settings

PG_URL = os.environ.get("ORGLEDGER_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
_problem: list[str] = []  # filled once per session: "" when reachable, else why not


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_postgres() -> None:
    if not _problem:
        try:
            with psycopg.connect(PG_URL, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _problem.append("")
        except psycopg.Error as e:
            _problem.append(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)
    if _problem[0]:
        message = f"PostgreSQL at {PG_URL} is unreachable ({_problem[0]})"
        if in_ci():
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(f"{message}: PostgreSQL tests skipped (they fail when CI=true)")


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


# Drops run beside the next test instead of before it; the interpreter waits for them at exit.
_dropper = ThreadPoolExecutor(1, thread_name_prefix="drop-schema")


@contextmanager
def fresh_schema() -> Iterator[str]:
    require_postgres()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    try:
        yield schema
    finally:
        _dropper.submit(drop_schema, schema)


def postgres_settings(schema: str, tmp_path: Path, master_key: str) -> Settings:
    return Settings(
        master_key=master_key, data_dir=tmp_path / "data", database_url=PG_URL,
        pg_schema=schema, backend="postgres",
    )


def connect() -> psycopg.Connection[tuple]:  # type: ignore[type-arg]
    return psycopg.connect(PG_URL, autocommit=True)
