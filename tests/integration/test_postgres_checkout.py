"""A pooled PostgreSQL connection is checked at checkout without a round trip, and one whose
backend has ended (a restart, an administrator) is replaced instead of failing the request."""

from __future__ import annotations

import time
from dataclasses import replace

import psycopg
import pytest

from orgledger.adapters.persistence.postgres import check_at_checkout
from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.settings import Settings
from tests.postgres import PG_URL, connect

from .helpers import add, create

pytestmark = pytest.mark.postgres
APP = "orgledger checkout test"


def _end_backends(application_name: str) -> int:
    with connect() as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,)).fetchone()
    time.sleep(0.2)  # the server's goodbye reaches the clients' sockets
    return int(ended[0]) if ended else 0


def test_a_live_connection_passes_and_an_ended_one_fails() -> None:
    with psycopg.connect(PG_URL, application_name=APP, autocommit=True) as conn:
        check_at_checkout(conn)
        assert _end_backends(APP) == 1
        with pytest.raises(psycopg.OperationalError):
            check_at_checkout(conn)


def test_commands_go_on_after_every_pooled_backend_ended(pg_settings: Settings) -> None:
    url = pg_settings.database_url or ""
    settings = replace(pg_settings, database_url=f"{url}{'&' if '?' in url else '?'}application_name="
                                                 f"{APP.replace(' ', '%20')}")
    runtime = build_runtime(settings)
    try:
        create(runtime, "org-1")
        add(runtime, "org-1", ("u-1", "internal_user"))
        assert _end_backends(APP) >= 2  # the event store's and the views' pooled connections
        add(runtime, "org-1", ("u-2", "internal_user"))
        runtime.sync()
        with runtime.read() as cur:
            members = runtime.organizations.org(cur, "org-1")["members"]
        assert {m["user_id"] for m in members} == {"u-1", "u-2"}
    finally:
        runtime.close()
