"""Configuration, read from the environment the same way by every command."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ENVIRONMENTS = ("production", "development")


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
    # Memory for answers kept until the views change (adapters/http/read_cache.py); 0 turns it off.
    read_cache_mb: int = 32
    # Seconds a request may take before it is answered 503 (and, if not yet written, dropped).
    request_timeout: float = 10.0
    log_level: str = "INFO"
    # "development" (`make run`): `orgledger check` warns about a weak master key instead of failing.
    environment: str = "production"
    # False when ORGLEDGER_DATA_DIR named the folder; True when it is the per-user default.
    default_data_dir: bool = False
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
        request_timeout = _seconds(env, "ORGLEDGER_REQUEST_TIMEOUT", "10")
        stall_seconds = _seconds(env, "ORGLEDGER_READINESS_STALL_SECONDS", "10")
        # LiteLLM's LITELLM_LOG works too, so one setting serves the proxy and orgledger.
        log_level = (env.get("ORGLEDGER_LOG_LEVEL") or env.get("LITELLM_LOG") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigurationError(f"ORGLEDGER_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
        environment = (env.get("ORGLEDGER_ENV") or "production").lower()
        if environment not in ENVIRONMENTS:
            raise ConfigurationError(f"ORGLEDGER_ENV must be production or development, not {environment!r}")
        data_dir = env.get("ORGLEDGER_DATA_DIR")
        return cls(
            master_key=env.get("LITELLM_MASTER_KEY") or None,
            data_dir=Path(data_dir).resolve() if data_dir else default_data_dir(),
            default_data_dir=not data_dir,
            log_level=log_level,
            environment=environment,
            database_url=database_url,
            pg_schema=env.get("ORGLEDGER_PG_SCHEMA", "public"),
            backend="postgres" if database_url else "sqlite",
            log_format=log_format,
            metrics_require_auth=env.get("ORGLEDGER_METRICS_REQUIRE_AUTH", "").lower()
            in ("1", "true", "yes"),
            read_cache_mb=int(cache_mb),
            request_timeout=request_timeout,
            readiness_stall_seconds=stall_seconds,
        )


def _seconds(env: Mapping[str, str], name: str, default: str) -> float:
    """A number of seconds above 0 and at most an hour."""
    text = env.get(name, default)
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise ConfigurationError(f"{name} must be a number of seconds above 0 and at most 3600, not {text!r}")
    return seconds


def default_data_dir() -> Path:
    """The same folder for `serve` and every command, wherever they run from: the user's data
    folder (~/.local/share/orgledger on Linux, or $XDG_DATA_HOME/orgledger)."""
    return platformdirs.user_data_path("orgledger")
