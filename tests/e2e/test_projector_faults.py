"""The PostgreSQL projector under faults: lost connections, then SIGKILL in the middle of a stream."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from orgledger.adapters.persistence import postgres
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.application.commands import AddMembers, CreateOrg, NewMember, RemoveMember, UpdateMember, UpdateOrg
from orgledger.domain.values import Actor
from orgledger.projections.organizations.view import OrganizationsView
from orgledger.projections.projector import Projector
from tests.conftest import MASTER_KEY
from tests.e2e import orgledger_processes as processes
from tests.postgres import fresh_schema, postgres_settings

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]
ADMIN = Actor(user_id="admin")
ORGS = [f"org-{n}" for n in range(5)]


class Writer(threading.Thread):
    """A stream of commands of every kind, written without waiting for the views."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.ledger = runtime.ledger
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.commands = 0

    def run(self) -> None:
        i = 0
        while not self.stopping.is_set():
            try:
                self.step(i)
            except BaseException as e:  # noqa: BLE001 - reported by the test
                self.errors.append(e)
                return
            i += 1

    def step(self, i: int) -> None:
        def org(n: int) -> str:
            return ORGS[n % len(ORGS)]

        self.ledger.add_members(AddMembers(actor=ADMIN, organization_id=org(i),
                                           members=[NewMember(role="internal_user", user_id=f"u{i}")]))
        self.commands += 1
        if i % 3 == 0:
            self.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id=org(i), metadata={f"k{i}": i}))
        if i % 4 == 0 and i >= 4:
            self.ledger.update_member(UpdateMember(actor=ADMIN, organization_id=org(i - 4),
                                                   user_id=f"u{i - 4}", role="org_admin"))
        if i % 7 == 0 and i >= 7:
            self.ledger.remove_member(RemoveMember(actor=ADMIN, organization_id=org(i - 7),
                                                   user_id=f"u{i - 7}"))


def table_rows(runtime: Runtime, view: OrganizationsView) -> dict[str, list[dict[str, Any]]]:
    with runtime.read() as cur:
        return {name: cur.execute(f"SELECT * FROM {table} ORDER BY 1, 2").all()
                for name, table in view.t.items()}


def test_projector_resumes_exactly_after_lost_connections_and_sigkill(tmp_path: Path) -> None:
    with fresh_schema() as schema:
        settings = postgres_settings(schema, tmp_path, MASTER_KEY)
        app_name = f"orgledger-probe-{schema}"
        env = processes.settings_env(settings, {"PGAPPNAME": app_name})
        log = tmp_path / "projector.log"
        runtime = build_runtime(settings)
        for org_id in ORGS:
            runtime.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias=org_id, organization_id=org_id))
        writer = Writer(runtime)
        probe = processes.start(["-m", "tests.e2e.probe_projector"], env, log)
        admin = postgres.connect(settings)
        try:
            writer.start()

            def applied() -> int:
                return runtime.projector.positions()["organizations"]

            processes.wait_until(lambda: applied() > 0, what="the projector to start applying")
            # The database drops every connection of the projector process.
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE application_name = %s", (app_name,))
            after_loss = runtime.ledger.recorder.max_notification_id() or 0
            processes.wait_until(lambda: applied() > after_loss, timeout=60,
                                 what="the projector to reconnect and go on")
            assert probe.poll() is None
            # SIGKILL in the middle of the stream; writes go on while no projector runs.
            probe.kill()
            probe.wait(10)
            at_kill = applied()
            processes.wait_until(
                lambda: (runtime.ledger.recorder.max_notification_id() or 0) > at_kill + 20,
                what="writes while the projector is down")
            probe = processes.start(["-m", "tests.e2e.probe_projector"], env, log)
            processes.wait_until(lambda: applied() > at_kill, timeout=60,
                                 what="the restarted projector to resume")
            writer.stopping.set()
            writer.join(60)
            assert writer.errors == [] and writer.commands > 40
            head = runtime.ledger.recorder.max_notification_id() or 0
            processes.wait_until(lambda: applied() == head, timeout=60, what="the projector to catch up")
        finally:
            writer.stopping.set()
            processes.stop(probe)
            admin.close()
        try:
            # Every stored event was applied exactly once, in order: none twice, none skipped.
            stored = [n.id for n in runtime.ledger.recorder.select_notifications(start=None, limit=100_000)]
            with runtime.read() as cur:
                positions = [r["position"] for r in
                             cur.execute("SELECT position FROM applied_positions ORDER BY position").all()]
            assert positions == stored
            # And the views equal a fresh rebuild from the log into tables beside them.
            fresh = OrganizationsView(prefix="fresh_")
            rebuild = Projector(runtime.ledger, runtime.store, [fresh])
            rebuild.create_tables()
            rebuild.catch_up()
            live = table_rows(runtime, runtime.organizations)
            assert live == table_rows(runtime, fresh)
            assert sum(len(rows) for rows in live.values()) > 50
        finally:
            runtime.close()
