"""Group commit on real stores: appends written together in one transaction, one savepoint each.

A conflict or a failed append condition undoes only its own append, and each append's condition
sees the appends before it in the batch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import RecordConflictError

from orgledger.adapters.persistence import postgres
from orgledger.adapters.runtime import ledger_env
from orgledger.adapters.settings import Settings
from orgledger.application.append_condition import AppendCondition, AppendConditionFailed
from orgledger.adapters.persistence.group_commit import Append
from orgledger.application.cascade import JOINING_TOPICS
from orgledger.application.ledger import OrgLedger
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.values import Actor
from tests.postgres import fresh_schema, postgres_settings

ADMIN = Actor(user_id="admin")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OrgLedger]:
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path, backend="sqlite")
        app = OrgLedger(env=ledger_env(settings))
        yield app
        app.close()
        return
    with fresh_schema() as schema:
        settings = postgres_settings(schema, tmp_path, "sk-test")
        with postgres.setup_lock(settings):
            app = OrgLedger(env=ledger_env(settings))
        yield app
        app.close()


def new_org(organization_id: str) -> Organization:
    return Organization(organization_id=organization_id, organization_alias=organization_id,
                        budget_id="b", models=[], metadata={}, object_permission=None, actor=ADMIN)


def append(ledger: OrgLedger, *aggregates: Any, condition: AppendCondition | None = None) -> Append:
    events = [ledger.mapper.to_stored_event(e) for a in aggregates for e in a.collect_events()]
    return Append(events, {"condition": condition})


def versions(ledger: OrgLedger, organization_id: str) -> list[int]:
    return [e.originator_version for e in ledger.events.get(Organization.create_id(organization_id))]


def test_a_conflict_in_a_batch_undoes_only_its_own_append(ledger: OrgLedger) -> None:
    ledger.save(new_org("taken"))
    # Three appends in one batch; the middle one creates "b", then an org whose id exists.
    batch = [append(ledger, new_org("a")), append(ledger, new_org("b"), new_org("taken")),
             append(ledger, new_org("c"))]
    ledger.recorder.write_batch(batch)  # type: ignore[attr-defined]
    assert isinstance(batch[1].error, RecordConflictError)
    assert batch[1].ids is None
    assert batch[0].error is None and batch[2].error is None
    # The others committed, with positions in the order of the batch.
    first, last = batch[0].ids, batch[2].ids
    assert first is not None and last is not None and first[-1] < last[0]
    assert versions(ledger, "a") == [1] and versions(ledger, "c") == [1]
    assert versions(ledger, "taken") == [1]
    assert versions(ledger, "b") == []  # undone with the rest of its append
    head = ledger.recorder.max_notification_id()
    assert [n.originator_id for n in ledger.recorder.select_notifications(1, 10)] == [
        Organization.create_id(i) for i in ("taken", "a", "c")
    ]
    assert head == last[-1]


def test_a_later_condition_sees_an_earlier_append_of_its_batch(ledger: OrgLedger) -> None:
    ledger.save(new_org("o1"))
    org = ledger.repository.get(Organization.create_id("o1"))
    stale = ledger.repository.get(Organization.create_id("o1"))
    org.update(actor=ADMIN, organization_alias="renamed")
    # The join was decided on version 1; the rename before it in the batch makes that stale.
    membership = Membership.join(stale, "u1", "internal_user", ADMIN)
    batch = [append(ledger, org),
             append(ledger, membership, condition=AppendCondition(versions={stale.id: 1}))]
    ledger.recorder.write_batch(batch)  # type: ignore[attr-defined]
    assert batch[0].error is None
    assert isinstance(batch[1].error, AppendConditionFailed)
    assert Membership.create_id("o1", "u1") not in ledger.repository
    assert versions(ledger, "o1") == [1, 2]


def test_conditions_are_checked_in_the_order_of_the_batch(ledger: OrgLedger) -> None:
    ledger.save(new_org("o1"))
    org = ledger.repository.get(Organization.create_id("o1"))
    head = ledger.recorder.max_notification_id() or 0
    quiet = AppendCondition(quiet_after=head, quiet_topics=JOINING_TOPICS)
    # A delete that needs no member to have joined since `head`, before and after a join.
    deleting = ledger.repository.get(Organization.create_id("o1"))
    deleting.delete(ADMIN)
    batch = [append(ledger, deleting, condition=quiet),
             append(ledger, Membership.join(org, "u1", "internal_user", ADMIN))]
    ledger.recorder.write_batch(batch)  # type: ignore[attr-defined]
    assert batch[0].error is None and batch[1].error is None

    ledger.save(new_org("o2"))
    org2 = ledger.repository.get(Organization.create_id("o2"))
    head = ledger.recorder.max_notification_id() or 0
    deleting = ledger.repository.get(Organization.create_id("o2"))
    deleting.delete(ADMIN)
    batch = [append(ledger, Membership.join(org2, "u1", "internal_user", ADMIN)),
             append(ledger, deleting, condition=AppendCondition(quiet_after=head, quiet_topics=JOINING_TOPICS))]
    ledger.recorder.write_batch(batch)  # type: ignore[attr-defined]
    assert batch[0].error is None
    assert isinstance(batch[1].error, AppendConditionFailed)
    assert versions(ledger, "o2") == [1]


def test_concurrent_saves_all_land_once_and_only_the_duplicate_conflicts(ledger: OrgLedger) -> None:
    ids = [f"org-{i}" for i in range(24)] + ["org-0"]  # one id twice
    gate = threading.Barrier(len(ids))
    outcomes: dict[int, BaseException | None] = {}

    def save(n: int, organization_id: str) -> None:
        org = new_org(organization_id)
        gate.wait()
        try:
            ledger.save(org)
            outcomes[n] = None
        except RecordConflictError as e:
            outcomes[n] = e

    threads = [threading.Thread(target=save, args=(n, i)) for n, i in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(e is not None for e in outcomes.values()) == 1
    assert len(outcomes) == len(ids)
    notifications = ledger.recorder.select_notifications(1, 100)
    assert sorted(n.originator_id for n in notifications) == sorted(
        Organization.create_id(i) for i in set(ids)
    )
