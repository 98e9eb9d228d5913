"""Configuration, read from the environment the same way by every command."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigurationError(Exception):
    """Raised when the environment does not describe a usable configuration."""


@dataclass(frozen=True)
class Settings:
    master_key: str | None = None
    data_dir: Path = Path("data")
    database_url: str | None = None
    pg_schema: str = "public"
    # "popo" keeps events in memory (tests); "sqlite" and "postgres" are the real stores.
    backend: str = "sqlite"
    log_format: str = "text"
    metrics_require_auth: bool = False
    # Memory for answers kept until the views change (adapters/read_cache.py); 0 turns it off.
    read_cache_mb: int = 32
    # Readiness fails when the views are behind the log and have not moved for this long.
    readiness_stall_seconds: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        database_url = env.get("DATABASE_URL") or None
        log_format = env.get("ORGLEDGER_LOG_FORMAT", "text").lower()
        if log_format not in ("text", "json"):
            raise ConfigurationError(f"ORGLEDGER_LOG_FORMAT must be text or json, not {log_format!r}")
        cache_mb = env.get("ORGLEDGER_READ_CACHE_MB", "32")
        if not cache_mb.isdigit():
            raise ConfigurationError(
                f"ORGLEDGER_READ_CACHE_MB must be a whole number of megabytes (0 turns the cache off), not {cache_mb!r}"
            )
        stall = env.get("ORGLEDGER_READINESS_STALL_SECONDS", "10")
        try:
            stall_seconds = float(stall)
        except ValueError:
            stall_seconds = -1.0
        if not stall_seconds > 0:
            raise ConfigurationError(
                f"ORGLEDGER_READINESS_STALL_SECONDS must be a number of seconds above 0, not {stall!r}"
            )
        return cls(
            master_key=env.get("LITELLM_MASTER_KEY") or None,
            data_dir=Path(env.get("ORGLEDGER_DATA_DIR", "data")).resolve(),
            database_url=database_url,
            pg_schema=env.get("ORGLEDGER_PG_SCHEMA", "public"),
            backend="postgres" if database_url else "sqlite",
            log_format=log_format,
            metrics_require_auth=env.get("ORGLEDGER_METRICS_REQUIRE_AUTH", "").lower()
            in ("1", "true", "yes"),
            read_cache_mb=int(cache_mb),
            readiness_stall_seconds=stall_seconds,
        )
