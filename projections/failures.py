"""When a projection cannot apply an event: which one, at which position, and why, kept in the
views' database so that every process (readiness, metrics, `orgledger check`) sees it, whichever
process runs the projector.

A failure is recorded once per failed attempt (the row's `attempts` count grows) and stops
mattering as soon as the projection's position passes it: the row is then stale, and the next
batch that applies anything deletes it."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from orgledger.projections.store import Cursor

FAILURES_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_failures (name TEXT PRIMARY KEY, position BIGINT NOT NULL,"
    " error TEXT NOT NULL, since TEXT NOT NULL, attempts BIGINT NOT NULL)"
)
ERROR_CHARS = 300

# PostgreSQL error classes that say nothing about the event: the connection, the server's state,
# a transaction that lost a race. Anything else the server refuses, it refuses for every retry.
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})


class ViewsBehind(TimeoutError):
    """Raised when the views did not reach a position in time (their projector runs elsewhere)."""


class ProjectionError(Exception):
    """Raised when a projection cannot apply the event at `position`: its handler raised, or the
    database refused what it wrote. `projection` is None when no projection could even see the
    event (it could not be decoded)."""

    def __init__(self, projection: str | None, position: int, cause: BaseException) -> None:
        self.projection = projection
        self.position = position
        self.cause = cause
        super().__init__(f"{projection or 'every projection'} failed at position {position}: {short(cause)}")


@dataclass(frozen=True)
class Failure:
    projection: str
    position: int  # the event it cannot apply
    error: str
    since: str  # ISO time of the first failed attempt at this position
    attempts: int

    def as_dict(self) -> dict[str, Any]:
        return {"projection": self.projection, "position": self.position, "error": self.error,
                "since": self.since, "attempts": self.attempts}


def short(error: BaseException) -> str:
    """The error's type and first line, bounded: enough to name the cause in one log line."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line if len(line) <= ERROR_CHARS else line[:ERROR_CHARS - 3] + "..."


def is_transient(error: BaseException) -> bool:
    """Whether the database, rather than the event, failed: the connection went away, the server
    is shutting down, a lock was busy. Such failures are retried without blaming an event."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, psycopg.Error):
            state = getattr(current, "sqlstate", None)
            if isinstance(current, (psycopg.OperationalError, psycopg.InterfaceError)) and state is None:
                return True
            return state is not None and state[:2] in TRANSIENT_SQLSTATE_CLASSES
        if isinstance(current, sqlite3.OperationalError):
            return "locked" in str(current) or "busy" in str(current)
        current = current.__cause__ or current.__context__
    return False


def record(cur: Cursor, names: list[str], position: int, error: str, now: str) -> None:
    """One more failed attempt at `position`; a new position starts the count again."""
    cur.execute(FAILURES_DDL)
    for name in names:
        cur.execute(
            "INSERT INTO projection_failures (name, position, error, since, attempts) VALUES (?,?,?,?,1)"
            " ON CONFLICT (name) DO UPDATE SET error = excluded.error,"
            " attempts = CASE WHEN projection_failures.position = excluded.position"
            " THEN projection_failures.attempts + 1 ELSE 1 END,"
            " since = CASE WHEN projection_failures.position = excluded.position"
            " THEN projection_failures.since ELSE excluded.since END,"
            " position = excluded.position",
            (name, position, error, now),
        )


def clear(cur: Cursor, names: Sequence[str], applied: int) -> None:
    """Inside the batch that applied up to `applied`: the failures it got past are over."""
    cur.execute(f"DELETE FROM projection_failures WHERE name IN ({','.join('?' * len(names))})"
                " AND position <= ?", (*names, applied))


def remaining(cur: Cursor, names: Sequence[str]) -> bool:
    row = cur.execute(f"SELECT COUNT(*) AS n FROM projection_failures WHERE name IN"
                      f" ({','.join('?' * len(names))})", names).one()
    return bool(row and row["n"])


def current(cur: Cursor, positions: dict[str, int]) -> list[Failure]:
    """The failures that still hold: each projection's, unless its position has passed it.
    `positions` maps position keys (Projection.position_key) to positions. The table exists
    once the views' tables were created (Projection.create_tables)."""
    rows = cur.execute("SELECT * FROM projection_failures ORDER BY name").all()
    return [Failure(r["name"], int(r["position"]), r["error"], r["since"], int(r["attempts"]))
            for r in rows if r["name"] in positions and positions[r["name"]] < int(r["position"])]
