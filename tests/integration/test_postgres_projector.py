"""The PostgreSQL projector: one at a time, the others wait; commands wait for it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from orgledger.adapters.persistence import postgres
from orgledger.adapters.cli.main import main
from orgledger.adapters.projector.postgres_projector import ProjectorService
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.application.commands import CreateOrg
from orgledger.domain.values import Actor
from tests.conftest import MASTER_KEY
from tests.postgres import fresh_schema, postgres_settings

pytestmark = pytest.mark.postgres
ADMIN = Actor(user_id="admin")


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Settings]:
    """A fresh schema with no projector running."""
    with fresh_schema() as schema:
        yield postgres_settings(schema, tmp_path, MASTER_KEY)


def create(runtime: Runtime, org_id: str) -> int:
    return runtime.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias=org_id,
                                               organization_id=org_id)).position


def test_a_second_projector_waits_then_takes_over(bare: Settings) -> None:
    runtime = build_runtime(bare)
    first = ProjectorService(bare, lock_retry=0.05).start()
    second = ProjectorService(bare, lock_retry=0.05).start()
    try:
        assert first.active.wait(20)
        time.sleep(0.3)
        # The second one waits for the lock instead of applying the same events.
        assert second.state == "waiting" and not second.active.is_set()
        runtime.projector.wait_for(create(runtime, "o1"))
        first.stop()
        assert second.active.wait(20)
        # It resumes where the first stopped.
        runtime.projector.wait_for(create(runtime, "o2"))
        with runtime.read() as cur:
            assert [o["organization_id"] for o in runtime.organizations.orgs(cur)] == ["o1", "o2"]
    finally:
        first.stop()
        second.stop()
        runtime.close()


def test_commands_wait_for_the_projector_and_say_so_when_none_runs(bare: Settings) -> None:
    runtime = build_runtime(bare)
    try:
        # Without a projector the views never catch up; the wait ends with a pointer to the fix.
        with pytest.raises(TimeoutError, match="projections run"):
            runtime.projector.wait_for(create(runtime, "o1"), timeout=0.3)
        projector = ProjectorService(bare).start()
        try:
            runtime.projector.wait_for(create(runtime, "o2"))
            assert runtime.projector.positions()["organizations"] == (
                runtime.ledger.recorder.max_notification_id())
        finally:
            projector.stop()
    finally:
        runtime.close()


def test_the_projector_takes_its_lock_again_after_losing_its_connection(bare: Settings) -> None:
    runtime = build_runtime(bare)
    projector = ProjectorService(bare).start()
    try:
        assert projector.active.wait(20)
        with postgres.connect(bare) as admin:
            pid = postgres.projector_pid(admin, bare)
            assert pid is not None
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            runtime.projector.wait_for(create(runtime, "o1"), timeout=20)
            assert postgres.projector_pid(admin, bare) not in (None, pid)
    finally:
        projector.stop()
        runtime.close()


def test_the_lock_connection_is_kept_alive_from_both_ends(bare: Settings) -> None:
    # A cut-off projector must not keep its lock (and so every standby waiting) for TCP's 2 hours.
    with postgres.connect(bare) as conn:
        assert conn.execute("SHOW tcp_keepalives_idle").fetchone() == ("10",)
        assert conn.info.get_parameters()["keepalives_idle"] == "10"


def test_check_names_the_schema_and_sees_the_projector_keep_up(pg_settings: Settings) -> None:
    env = {"DATABASE_URL": pg_settings.database_url or "", "ORGLEDGER_PG_SCHEMA": pg_settings.pg_schema,
           "LITELLM_MASTER_KEY": MASTER_KEY}
    result = CliRunner().invoke(main, ["check"], env=env)
    assert f"ok   store: PostgreSQL schema {pg_settings.pg_schema} in 127.0.0.1:5432/test" in result.output
    assert "ok   projection organizations: at the log head" in result.output
    assert result.exit_code == 0, result.output


def test_commands_in_the_projectors_process_are_woken_by_it(bare: Settings) -> None:
    runtime = build_runtime(bare)
    progress = postgres.local_progress(bare)
    assert runtime.projector.local_progress is progress and not progress.leading
    service = ProjectorService(bare).start()
    try:
        assert service.active.wait(20)
        assert progress.leading
        position = create(runtime, "o1")
        # The projector's commit advances the shared progress the waiter is woken by.
        assert progress.wait(position, 10)
        runtime.projector.wait_for(position)
        with runtime.read() as cur:
            assert runtime.organizations.org(cur, "o1") is not None
    finally:
        service.stop()
        runtime.close()
    # A stopped projector leads no more: waiters go back to asking the database.
    assert not progress.leading
