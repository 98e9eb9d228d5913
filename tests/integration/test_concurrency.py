"""Optimistic concurrency: racing commands lose no write and never leave a member in a deleted org."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from orgledger.adapters.runtime import Runtime
from orgledger.application.commands import DeleteOrgs, UpdateOrg
from orgledger.domain.errors import OrganizationExistsError, OrganizationNotFoundError
from orgledger.domain.values import BudgetLimits

from .helpers import ADMIN, add, create, member_roles, org, topics_since, update_member

THREADS = 6


def race(*jobs: Callable[[], Any]) -> list[Any]:
    """Runs the jobs at once; returns each job's result or the exception it raised."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[i] = job()
        except Exception as e:  # collected and asserted on by the test
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_member_adds_to_one_organization_are_all_kept(runtime: Runtime) -> None:
    create(runtime, "org-1")
    per_thread = 5
    jobs = [
        (lambda t=t: [add(runtime, "org-1", (f"u{t}-{i}", "internal_user")) for i in range(per_thread)])
        for t in range(THREADS)
    ]
    results = race(*jobs)
    assert not [r for r in results if isinstance(r, Exception)]
    roles = member_roles(runtime, "org-1")
    assert len(roles) == THREADS * per_thread
    assert set(roles) == {f"u{t}-{i}" for t in range(THREADS) for i in range(per_thread)}


def test_concurrent_adds_of_the_same_user_give_one_membership(runtime: Runtime) -> None:
    create(runtime, "org-1")
    results = race(*[(lambda: add(runtime, "org-1", ("same", "internal_user"))) for _ in range(THREADS)])
    successes = [r for r in results if not isinstance(r, Exception)]
    assert len(successes) == 1, results
    assert member_roles(runtime, "org-1") == {"same": "internal_user"}


def test_concurrent_creates_of_the_same_id_give_one_organization(runtime: Runtime) -> None:
    results = race(*[(lambda t=t: create(runtime, "org-1", alias=f"a{t}")) for t in range(THREADS)])
    refused = [r for r in results if isinstance(r, Exception)]
    # Every loser is told the id exists (found by the store's uniqueness, not by a read before).
    assert len(refused) == THREADS - 1, results
    assert all(isinstance(r, OrganizationExistsError) for r in refused), refused
    # A refused create wrote nothing, not even its budget.
    assert topics_since(runtime, 0) == ["BudgetCreated", "OrgCreated"]


def test_concurrent_updates_of_members_and_the_organization_are_all_kept(runtime: Runtime) -> None:
    create(runtime, "org-1")
    users = [f"u{i}" for i in range(THREADS)]
    add(runtime, "org-1", *[(u, "internal_user") for u in users])
    jobs: list[Callable[[], Any]] = [
        (lambda u=u: update_member(runtime, "org-1", u, role="org_admin", max_budget_in_organization=1.0))
        for u in users
    ]
    jobs += [
        (lambda i=i: runtime.ledger.update_org(
            UpdateOrg(actor=ADMIN, organization_id="org-1", metadata={f"k{i}": i},
                      limits=BudgetLimits(max_budget=float(i)))))
        for i in range(3)
    ]
    results = race(*jobs)
    assert not [r for r in results if isinstance(r, Exception)]
    assert member_roles(runtime, "org-1") == dict.fromkeys(users, "org_admin")
    shown = org(runtime, "org-1")
    assert shown is not None
    # Each metadata merge saw the others: none of the keys is lost.
    assert shown["metadata"] == {"k0": 0, "k1": 1, "k2": 2}


def test_delete_racing_member_adds_leaves_no_member_in_the_deleted_org(runtime: Runtime) -> None:
    for round_ in range(6):
        organization_id = f"org-{round_}"
        create(runtime, organization_id)
        add(runtime, organization_id, ("founder", "org_admin"))
        adders: list[Callable[[], Any]] = [
            (lambda t=t: [add(runtime, organization_id, (f"u{t}-{i}", "internal_user")) for i in range(4)])
            for t in range(THREADS - 1)
        ]
        delete = lambda: runtime.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=[organization_id]))  # noqa: E731
        results = race(delete, *adders)
        # The delete always wins eventually; an add either came first or found no organization.
        assert not isinstance(results[0], Exception), results[0]
        for r in results[1:]:
            assert r is None or isinstance(r, list) or isinstance(r, OrganizationNotFoundError), r
        assert org(runtime, organization_id) is None
        with runtime.read() as cur:
            left = cur.execute(
                "SELECT user_id FROM memberships WHERE organization_id=?", (organization_id,)
            ).all()
        assert left == []
        assert_no_membership_outlives_its_organization(runtime)


def assert_no_membership_outlives_its_organization(runtime: Runtime) -> None:
    """Replays the log: after OrgDeleted no member may be active in that organization."""
    notifications = runtime.ledger.recorder.select_notifications(start=1, limit=100_000)
    deleted: set[str] = set()
    active: dict[tuple[str, str], bool] = {}
    for n in notifications:
        e = runtime.ledger.mapper.to_domain_event(n)
        kind = type(e).__name__
        if kind == "OrgDeleted":
            deleted.add(e.organization_id)
        elif kind in ("MemberAdded", "MemberRejoined"):
            assert e.organization_id not in deleted, f"{e.user_id} joined deleted {e.organization_id}"
            active[(e.organization_id, e.user_id)] = True
        elif kind == "MemberRemoved":
            active[(e.organization_id, e.user_id)] = False
    stranded = [key for key, on in active.items() if on and key[0] in deleted]
    assert stranded == []
