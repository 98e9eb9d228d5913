"""Synthetic event logs: real events of the real types, written in big batched appends.

Building aggregates one by one costs ~70 us each (eventsourcing's protocol checks and
mutators), which would make a million events take minutes. The events here are built
directly from their classes, encoded by the application's own mapper in a worker process
and appended by the main process, many aggregates per transaction."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from eventsourcing.utils import get_topic

from orgledger.adapters.auth import key_hash
from orgledger.domain.budget import Budget
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.user import User
from orgledger.domain.values import MASTER_KEY_USER_ID, Actor, BudgetLimits

ORGS_PER_CHUNK = 200


def org_id(i: int) -> str:
    return f"org-{i}"


def org_alias(i: int) -> str:
    # Zero-padded so that a filter on the digits matches exactly one organization.
    return f"Bench Org {i:07d}"


def user_id(i: int, j: int) -> str:
    return f"user-{i}-{j}"


def bench_actor(master_key: str) -> Actor:
    return Actor(user_id=MASTER_KEY_USER_ID, api_key_hash=key_hash(master_key))


def org_events(i: int, members: int, actor: Actor, now: datetime) -> Iterator[Any]:
    """One organization as `create_org` + `add_members` would record it: 2 + 2*members events."""
    budget_id, organization_id = f"budget-{i}", org_id(i)
    yield Budget.BudgetCreated(
        originator_id=Budget.create_id(budget_id), originator_version=1, timestamp=now,
        originator_topic=get_topic(Budget), budget_id=budget_id,
        limits=BudgetLimits(max_budget=100.0), actor=actor,
    )
    yield Organization.OrgCreated(
        originator_id=Organization.create_id(organization_id), originator_version=1,
        timestamp=now, originator_topic=get_topic(Organization), organization_id=organization_id,
        organization_alias=org_alias(i), budget_id=budget_id, models=[], metadata={},
        object_permission=None, actor=actor,
    )
    for j in range(members):
        uid = user_id(i, j)
        yield User.UserCreated(
            originator_id=User.create_id(uid), originator_version=1, timestamp=now,
            originator_topic=get_topic(User), user_id=uid, user_email=f"{uid}@example.com",
            user_role="internal_user", models=[], max_budget=None, metadata={}, actor=actor,
        )
        yield Membership.MemberAdded(
            originator_id=Membership.create_id(organization_id, uid), originator_version=1,
            timestamp=now, originator_topic=get_topic(Membership), organization_id=organization_id,
            user_id=uid, role="internal_user", actor=actor,
        )


_mapper: Any = None


def _encode_chunk(args: tuple[int, int, int, str]) -> list[Any]:
    global _mapper
    start, stop, members, master_key = args
    if _mapper is None:
        # The application's own mapper, from an in-memory ledger wired as the runtime wires one.
        from orgledger.adapters.runtime import ledger_env
        from orgledger.adapters.settings import Settings
        from orgledger.application.ledger import OrgLedger

        _mapper = OrgLedger(env=ledger_env(Settings(backend="popo"))).mapper
    actor = bench_actor(master_key)
    now = datetime.now(timezone.utc)
    return [
        _mapper.to_stored_event(e)
        for i in range(start, stop)
        for e in org_events(i, members, actor, now)
    ]


def generate(ledger: Any, orgs: int, members: int, master_key: str, first: int = 0) -> int:
    """Append `orgs` organizations with `members` members each; returns the events written."""
    chunks = [(s, min(s + ORGS_PER_CHUNK, first + orgs), members, master_key)
              for s in range(first, first + orgs, ORGS_PER_CHUNK)]
    written = 0
    if len(chunks) < 20:  # not worth a worker process
        for chunk in chunks:
            written += _append(ledger, _encode_chunk(chunk))
        return written
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        # The worker encodes the next chunks while this process appends the current one.
        for stored in pool.imap(_encode_chunk, chunks, chunksize=1):
            written += _append(ledger, stored)
    return written


def _append(ledger: Any, stored: list[Any]) -> int:
    ledger.recorder.insert_events(stored)
    return len(stored)
