"""PostgreSQL: append conditions hold across connections, and conflicting commands all land."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import ProgrammingError
from psycopg import sql

from orgledger.adapters.persistence import postgres
from orgledger.adapters.runtime import Runtime, build_runtime, ledger_env
from orgledger.adapters.settings import Settings
from orgledger.application.append_condition import AppendCondition, AppendConditionFailed
from orgledger.application.commands import AddMembers, CreateOrg, DeleteOrgs, NewMember, UpdateOrg
from orgledger.application.ledger import OrgLedger
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.values import Actor
from tests.postgres import connect

pytestmark = pytest.mark.postgres
ADMIN = Actor(user_id="admin")


@pytest.fixture
def runtimes(pg_settings: Settings) -> Iterator[list[Runtime]]:
    # Two runtimes have separate pools, like two worker processes.
    pair = [build_runtime(pg_settings), build_runtime(pg_settings)]
    yield pair
    for rt in pair:
        rt.close()


def test_the_condition_is_checked_after_the_table_lock(pg_settings: Settings,
                                                       runtimes: list[Runtime]) -> None:
    ledger = runtimes[0].ledger
    ledger.create_org(CreateOrg(actor=ADMIN, organization_alias="a", organization_id="o1"))
    org = ledger.repository.get(Organization.create_id("o1"))
    # Another writer holds the events table lock and appends a genuine change to the org.
    newer = ledger.repository.get(Organization.create_id("o1"))
    newer.update(actor=ADMIN, organization_alias="b")
    stored = ledger.mapper.to_stored_event(newer.collect_events()[0])
    table = sql.SQL("{}.orgledger_events").format(sql.Identifier(pg_settings.pg_schema))
    other = connect()
    other.execute("BEGIN")
    other.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
    other.execute(
        sql.SQL("INSERT INTO {} (originator_id, originator_version, topic, state) VALUES (%s,%s,%s,%s)")
        .format(table),
        (stored.originator_id, stored.originator_version, stored.topic, stored.state),
    )
    # Meanwhile a member joins, on the org version read before that change.
    outcome: list[BaseException | None] = []

    def join() -> None:
        membership = Membership.join(org, "u1", "internal_user", ADMIN)
        try:
            ledger.save(membership, condition=AppendCondition(versions={org.id: org.version}))
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            outcome.append(e)

    joiner = threading.Thread(target=join)
    joiner.start()
    joiner.join(0.5)
    # The join waits for the lock rather than checking a stale snapshot.
    assert joiner.is_alive()
    other.execute("COMMIT")
    other.close()
    joiner.join(10)
    assert isinstance(outcome[0], AppendConditionFailed)
    assert Membership.create_id("o1", "u1") not in ledger.repository


def test_no_member_joins_an_organization_that_is_being_deleted(runtimes: list[Runtime]) -> None:
    adder, deleter = runtimes
    adder.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias="a", organization_id="o1"))
    deleting = threading.Event()
    added: list[str] = []

    def add_while_deleting() -> None:
        # Members keep joining while the delete is decided (they wait while it holds its fence;
        # test_delete_not_starved.py bounds how long the delete takes under such a stream).
        for i in range(60):
            if i == 5:
                deleting.set()
            try:
                adder.ledger.add_members(AddMembers(
                    actor=ADMIN, organization_id="o1",
                    members=[NewMember(role="internal_user", user_id=f"u{i}")]))
            except Exception:  # the organization is gone: stop adding
                return
            added.append(f"u{i}")
            time.sleep(0.01)

    thread = threading.Thread(target=add_while_deleting)
    thread.start()
    deleting.wait(30)
    deleter.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["o1"]))
    thread.join(60)
    # Every member that joined was removed with the organization: none left behind.
    assert len(added) >= 5
    repository = adder.ledger.repository
    assert repository.get(Organization.create_id("o1")).deleted
    assert all(repository.get(Membership.create_id("o1", u)).removed for u in added)


def test_conflicting_updates_from_two_writers_are_all_kept(runtimes: list[Runtime]) -> None:
    runtimes[0].ledger.create_org(CreateOrg(actor=ADMIN, organization_alias="a", organization_id="o1"))

    def update(rt: Runtime, name: str) -> None:
        for i in range(15):
            rt.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id="o1",
                                           metadata={f"{name}{i}": i}))

    threads = [threading.Thread(target=update, args=(rt, n)) for rt, n in zip(runtimes, "ab")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # Both writers' 15 changes each survive: conflicts were retried, not lost.
    org = runtimes[0].ledger.repository.get(Organization.create_id("o1"))
    assert org.metadata == {f"{n}{i}": i for n in "ab" for i in range(15)}
    updates = [e for e in runtimes[0].ledger.events.get(org.id) if isinstance(e, Organization.OrgUpdated)]
    assert len(updates) == 30


def test_a_condition_is_never_skipped_by_the_insert_function(pg_settings: Settings) -> None:
    env = {**ledger_env(pg_settings), "POSTGRES_ENABLE_DB_FUNCTIONS": "y"}
    with postgres.setup_lock(pg_settings):  # the fixture's projector may be creating tables too
        ledger = OrgLedger(env=env)
    try:
        org = Organization(organization_id="o1", organization_alias="a", budget_id="b", models=[],
                           metadata={}, object_permission=None, actor=ADMIN)
        with pytest.raises(ProgrammingError, match="POSTGRES_ENABLE_DB_FUNCTIONS"):
            ledger.save(org, condition=AppendCondition(versions={org.id: 0}))
    finally:
        ledger.close()
