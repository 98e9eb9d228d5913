"""Fresh, throw-away stores for one measurement: a tmp data dir on SQLite, a schema on PostgreSQL.

Every store is described by the environment `orgledger` reads (Settings.from_env), so the
server and CLI subprocesses and the in-process code see the same store."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from orgledger.adapters.settings import Settings

MASTER_KEY = "sk-bench-master-key"


@dataclass(frozen=True)
class Store:
    backend: str
    env: dict[str, str]

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    def process_env(self) -> dict[str, str]:
        """The environment for an `orgledger` subprocess on this store."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "ORGLEDGER_PG_SCHEMA", "ORGLEDGER_DATA_DIR")}
        env.update(self.env)
        return env


@contextmanager
def fresh_store(backend: str) -> Iterator[Store]:
    if backend == "sqlite":
        data_dir = tempfile.mkdtemp(prefix="orgledger-bench-")
        try:
            yield Store(backend, {"LITELLM_MASTER_KEY": MASTER_KEY, "ORGLEDGER_DATA_DIR": data_dir})
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    url = os.environ["DATABASE_URL"]
    try:
        yield Store(backend, {"LITELLM_MASTER_KEY": MASTER_KEY, "DATABASE_URL": url,
                              "ORGLEDGER_PG_SCHEMA": schema})
    finally:
        _drop_schema(url, schema)


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def postgres_unsupported() -> str | None:
    """Why PostgreSQL cannot be benchmarked with this build, or None when it can."""
    from orgledger.adapters.runtime import build_runtime
    from orgledger.adapters.settings import ConfigurationError

    if not os.environ.get("DATABASE_URL"):
        return "DATABASE_URL is not set"
    try:
        with fresh_store("postgres") as store:
            build_runtime(store.settings).close()
    except ConfigurationError as e:
        return f"this build cannot serve PostgreSQL yet ({e})"
    except Exception as e:  # unreachable server, bad URL: say so and go on with SQLite
        return f"PostgreSQL unusable: {type(e).__name__}: {e}"
    return None


def open_runtime(store: Store) -> Any:
    """The composition root's runtime on this store, in this process."""
    from orgledger.adapters.runtime import build_runtime

    return build_runtime(store.settings)
