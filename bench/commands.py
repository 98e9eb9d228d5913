"""Measurement 1: commands over HTTP against their raw limit, the store's single-save rate."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application

from orgledger.adapters.persistence import postgres
from orgledger.adapters.runtime import ledger_env
from orgledger.application.ledger import OrgLedger
from orgledger.domain.budget import Budget
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.user import User
from orgledger.domain.values import BudgetLimits

from . import dataset, loadgen
from .servers import orgledger_server
from .stores import MASTER_KEY, Store, fresh_store, open_runtime

SEED_ORGS = 16  # member_add spreads over these, so no two clients contend on one organization

NEW_ORG = loadgen.Load("POST", "/organization/new", '{"organization_alias": "bench org {u}"}')
MEMBER_ADD = loadgen.Load(
    "POST", "/organization/member_add",
    '{"organization_id": "org-{r}", "member": {"role": "internal_user", "user_id": "member-{u}"}}',
    range=SEED_ORGS,
)


def _new_org_saves(ledger: Any, actor: Any) -> Callable[[], None]:
    def save() -> None:
        budget = Budget.open(str(uuid.uuid4()), BudgetLimits(), actor)
        org = Organization(organization_id=str(uuid.uuid4()), organization_alias="raw org",
                           budget_id=budget.budget_id, models=[], metadata={},
                           object_permission=None, actor=actor)
        ledger.save(budget, org)
    return save


def _member_add_saves(ledger: Any, actor: Any) -> Callable[[], None]:
    orgs = [ledger.repository.get(Organization.create_id(dataset.org_id(i))) for i in range(SEED_ORGS)]
    counter = iter(range(10**9))

    def save() -> None:
        n = next(counter)
        user = User.register(user_id=f"raw-member-{n}", actor=actor)
        membership = Membership.join(orgs[n % SEED_ORGS], user.user_id, "internal_user", actor)
        ledger.save(user, membership)
    return save


class RawStore(Application):
    """eventsourcing's own Application and recorder, with the ledger's mapper and store
    settings: what one save of these events costs without our commands, guards, views or
    group commit (which the issue expects to beat this limit)."""

    name = OrgLedger.name
    construct_mapper = OrgLedger.construct_mapper


def raw_store(store: Store) -> RawStore:
    env = ledger_env(store.settings)
    env.pop("APPLICATION_RECORDER_TOPIC", None)  # the library's stock recorder
    if store.settings.backend == "postgres":
        with postgres.setup_lock(store.settings):  # creates the store's schema, as a runtime would
            pass
    return RawStore(env=env)


def raw_save_rate(backend: str, which: str, seconds: float) -> float:
    """Saves/s of the same events, one save per command, in a loop without HTTP."""
    with fresh_store(backend) as store:
        if backend == "sqlite":
            store.settings.data_dir.mkdir(parents=True, exist_ok=True)
        ledger = raw_store(store)
        try:
            dataset.generate(ledger, SEED_ORGS, 0, MASTER_KEY)
            actor = dataset.bench_actor(MASTER_KEY)
            save = (_new_org_saves if which == "new" else _member_add_saves)(ledger, actor)
            for _ in range(50):  # warm-up: connections, statement caches
                save()
            done, started = 0, time.perf_counter()
            deadline = started + seconds
            while time.perf_counter() < deadline:
                save()
                done += 1
            return done / (time.perf_counter() - started)
        finally:
            ledger.close()


def measure(backend: str, seconds: float, clients: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, load, which in (("organization/new", NEW_ORG, "new"),
                              ("organization/member_add", MEMBER_ADD, "member_add")):
        # The raw rate is taken before and after the HTTP run and averaged: on a shared
        # machine the disk and CPU drift within a minute.
        before = raw_save_rate(backend, which, min(seconds, 6.0) / 2)
        with fresh_store(backend) as store:
            runtime = open_runtime(store)
            dataset.generate(runtime.ledger, SEED_ORGS, 0, MASTER_KEY)
            runtime.close()
            with orgledger_server(store) as server:
                http = loadgen.run(server, load, connections=clients, seconds=seconds)
        after = raw_save_rate(backend, which, min(seconds, 6.0) / 2)
        raw = (before + after) / 2
        results[name] = {**http.as_dict(), "clients": clients, "raw_saves_per_s": round(raw, 1),
                         "raw_before_after": [round(before, 1), round(after, 1)],
                         "ratio": round(http.throughput / raw, 3) if raw else None}
    return results
