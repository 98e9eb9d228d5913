"""Synthetic event logs: real events of the real types, written in big batched appends.

Building each organization's events and encoding them through the mapper costs about 30 us an
event, half a minute for the 1M-event log. So one organization (number SENTINEL) is built from
the real event classes and encoded by the application's own mapper, and every other
organization's stored events are that template with the number swapped in the JSON. A sample
of organizations is also encoded the slow way and must come out byte for byte the same, so the
template can never drift from what the application would store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder
from eventsourcing.utils import get_topic

from orgledger.adapters.http.auth import key_hash
from orgledger.domain.budget import Budget
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.user import User
from orgledger.domain.values import MASTER_KEY_USER_ID, Actor, BudgetLimits

BATCH_EVENTS = 50_000  # events per transaction
SENTINEL = 9_876_543  # the template organization's number: appears nowhere else in its events
CHECKED = 4  # organizations per call encoded the slow way and compared with the template's


def org_id(i: int) -> str:
    return f"org-{i}"


def org_alias(i: int) -> str:
    # Zero-padded so that a filter on the digits matches exactly one organization.
    return f"Bench Org {i:07d}"


def user_id(i: int, j: int) -> str:
    return f"user-{i}-{j}"


def budget_id(i: int) -> str:
    return f"budget-{i}"


def bench_actor(master_key: str) -> Actor:
    return Actor(user_id=MASTER_KEY_USER_ID, api_key_hash=key_hash(master_key))


def originator_ids(i: int, members: int) -> list[UUID]:
    """The aggregate ids of organization i's events, in the order org_events yields them."""
    ids = [Budget.create_id(budget_id(i)), Organization.create_id(org_id(i))]
    for j in range(members):
        ids += [User.create_id(user_id(i, j)), Membership.create_id(org_id(i), user_id(i, j))]
    return ids


def org_events(i: int, members: int, actor: Actor, now: datetime) -> Iterator[Any]:
    """One organization as `create_org` + `add_members` would record it: 2 + 2*members events."""
    ids = iter(originator_ids(i, members))
    yield Budget.BudgetCreated(
        originator_id=next(ids), originator_version=1, timestamp=now,
        originator_topic=get_topic(Budget), budget_id=budget_id(i),
        limits=BudgetLimits(max_budget=100.0), actor=actor,
    )
    yield Organization.OrgCreated(
        originator_id=next(ids), originator_version=1,
        timestamp=now, originator_topic=get_topic(Organization), organization_id=org_id(i),
        organization_alias=org_alias(i), budget_id=budget_id(i), models=[], metadata={},
        object_permission=None, actor=actor,
    )
    for j in range(members):
        uid = user_id(i, j)
        yield User.UserCreated(
            originator_id=next(ids), originator_version=1, timestamp=now,
            originator_topic=get_topic(User), user_id=uid, user_email=f"{uid}@example.com",
            user_role="internal_user", models=[], max_budget=None, metadata={}, actor=actor,
        )
        yield Membership.MemberAdded(
            originator_id=next(ids), originator_version=1,
            timestamp=now, originator_topic=get_topic(Membership), organization_id=org_id(i),
            user_id=uid, role="internal_user", actor=actor,
        )


class Template:
    """Organization i's stored events, derived from SENTINEL's as the mapper encoded them."""

    def __init__(self, mapper: Any, members: int, actor: Actor, now: datetime) -> None:
        self.mapper, self.members, self.actor, self.now = mapper, members, actor, now
        self.events = [mapper.to_stored_event(e) for e in org_events(SENTINEL, members, actor, now)]

    def stored(self, i: int) -> list[StoredEvent]:
        # The alias first: it is the one place the number is zero-padded.
        swaps = ((org_alias(SENTINEL).encode(), org_alias(i).encode()),
                 (str(SENTINEL).encode(), str(i).encode()))
        out = []
        for uid, e in zip(originator_ids(i, self.members), self.events, strict=True):
            state = e.state
            for old, new in swaps:
                state = state.replace(old, new)
            out.append(StoredEvent(uid, e.originator_version, e.topic, state))
        return out

    def check(self, i: int) -> None:
        """Organization i the slow way (event classes + mapper) must equal the derived one."""
        real = [self.mapper.to_stored_event(e) for e in org_events(i, self.members, self.actor, self.now)]
        if real != self.stored(i):
            raise AssertionError(f"the benchmark's event template differs from the mapper's for org {i}")


def generate(ledger: Any, orgs: int, members: int, master_key: str, first: int = 0) -> int:
    """Append `orgs` organizations with `members` members each; returns the events written."""
    template = Template(ledger.mapper, members, bench_actor(master_key), datetime.now(timezone.utc))
    numbers = range(first, first + orgs)
    for i in {numbers[0], numbers[-1], *numbers[:: max(1, orgs // CHECKED)]} if orgs else ():
        template.check(i)
    # One thread: appending in a second one while this derives the next batch was slower
    # (sqlite3 binds parameters holding the GIL).
    written, batch = 0, []
    for i in numbers:
        batch += template.stored(i)
        if len(batch) >= BATCH_EVENTS:
            written += _append(ledger.recorder, batch)
            batch = []
    return written + (_append(ledger.recorder, batch) if batch else 0)


def _append(recorder: Any, stored: Sequence[StoredEvent]) -> int:
    """One transaction per batch. On SQLite the application recorder inserts row by row to
    return notification ids, which nobody needs here: its aggregate recorder's executemany
    runs the same statement in the same transaction."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=True) as c:
            SQLiteAggregateRecorder._insert_events(recorder, c, stored)
    else:
        recorder.insert_events(stored)
    return len(stored)
