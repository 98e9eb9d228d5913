"""`orgledger check`: is this configuration fit to serve, and do the read models match the log?"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from orgledger.adapters.persistence.postgres import one_line, parse_database_url
from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.settings import Settings

DEVELOPMENT_KEYS = frozenset({"sk-1234"})
MIN_KEY_LENGTH = 16


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    # A problem that does not fail the check (a weak key under ORGLEDGER_ENV=development).
    warning: bool = False

    def line(self) -> str:
        return f"{'warn' if self.warning else 'ok  ' if self.ok else 'FAIL'} {self.check}: {self.detail}"


def master_key(settings: Settings) -> Finding:
    key = settings.master_key
    if not key:
        return Finding("master key", False, "LITELLM_MASTER_KEY is not set")
    weakness = None
    if key in DEVELOPMENT_KEYS:
        weakness = "LITELLM_MASTER_KEY is the development key; set a secret one"
    elif len(key) < MIN_KEY_LENGTH:
        weakness = f"LITELLM_MASTER_KEY has {len(key)} characters; use at least {MIN_KEY_LENGTH}"
    if weakness and settings.environment == "development":
        return Finding("master key", True, f"{weakness} before production (ORGLEDGER_ENV=development)",
                       warning=True)
    if weakness:
        return Finding("master key", False, weakness)
    # Never the key itself: this output ends up in deploy logs.
    return Finding("master key", True, f"set, {len(key)} characters")


def store_location(settings: Settings) -> str:
    if settings.backend == "sqlite":
        return f"SQLite in {settings.data_dir}"
    if settings.backend == "postgres":
        target = parse_database_url(settings.database_url or "")
        # Never the password: this output ends up in deploy logs.
        return f"PostgreSQL schema {settings.pg_schema} in {target.host}:{target.port}/{target.dbname}"
    return f"{settings.backend} store"


def missing_sqlite_store(settings: Settings) -> str | None:
    # Opening SQLite creates files; a check must not make a typo'd data dir look healthy.
    if not settings.data_dir.is_dir():
        return f"ORGLEDGER_DATA_DIR {settings.data_dir} is not a directory"
    if not (settings.data_dir / "events.db").is_file():
        return f"no event log at {settings.data_dir / 'events.db'} (has `orgledger serve` run here?)"
    return None


def run_checks(settings: Settings) -> Iterator[Finding]:
    """One finding per check, in order; the store's checks stop at the first it cannot pass."""
    yield master_key(settings)
    if settings.backend == "sqlite" and (missing := missing_sqlite_store(settings)):
        yield Finding("store", False, missing)
        return
    try:
        runtime = build_runtime(settings, catch_up=False)
    except Exception as e:  # any failure to open the store is the finding
        yield Finding("store", False, f"cannot open the {store_location(settings)}: {one_line(e)}")
        return
    try:
        head = runtime.ledger.recorder.max_notification_id() or 0
        positions = runtime.projector.positions()
    except Exception as e:
        yield Finding("store", False, f"cannot read the {store_location(settings)}: {one_line(e)}")
        return
    finally:
        runtime.close()
    yield Finding("store", True, f"{store_location(settings)}, log head at {head}")
    for name, position in sorted(positions.items()):
        if name in runtime.outdated_views:
            yield Finding(f"projection {name}", False, "its tables have an older layout; `orgledger "
                          "serve` rebuilds them from the log when it starts")
        else:
            yield projection(name, position, head)


def projection(name: str, position: int, head: int) -> Finding:
    check = f"projection {name}"
    if position == head:
        return Finding(check, True, f"at the log head ({head})")
    if position < head:
        return Finding(check, False, f"at {position}, behind the log head {head} by {head - position} "
                                     "events (its projector is not running or is stuck)")
    return Finding(check, False, f"at {position}, ahead of the log head {head}: the read models were "
                                 "built from another event log (restore that log, or rebuild them)")
