"""Commands decide on the event store alone (issue 12): while one decides and saves, the read
views are neither queried nor caught up, so a stuck projection cannot hold up a write. (Once a
batch is committed, its writer may show it in the views before waking its callers, on SQLite in
one process; that catch-up never waits and never fails the write: the last test.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from orgledger.adapters.runtime import Runtime
from orgledger.application.commands import (
    AddMembers,
    CreateOrg,
    CreateUser,
    DeleteOrgs,
    GenerateKey,
    NewMember,
    RemoveMember,
    UpdateMember,
    UpdateOrg,
)
from orgledger.domain.values import BudgetLimits

from .helpers import ADMIN, add, create, views_left_behind


class ViewsTouched(AssertionError):
    """Raised when a command opens the views or moves the projector."""


@contextmanager
def views_forbidden(runtime: Runtime) -> Iterator[list[str]]:
    """Every way into the views raises while the block runs, and is recorded (a command
    that caught the error itself would still be found out)."""
    touched: list[str] = []
    targets: list[tuple[Any, str]] = [
        (runtime.store, "transaction"),
        (runtime.store.datastore, "transaction"),
        (runtime.store.datastore, "get_connection"),
        (runtime.projector, "catch_up"),
        (runtime.projector, "wait_for"),
    ]

    def refuse(name: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            touched.append(name)
            raise ViewsTouched(f"a command used {name}")
        return refused

    for owner, attribute in targets:
        setattr(owner, attribute, refuse(f"{type(owner).__name__}.{attribute}"))
    try:
        with views_left_behind(runtime):  # the decision and the save alone
            yield touched
    finally:
        for owner, attribute in targets:
            delattr(owner, attribute)


def run_alone(runtime: Runtime, command: Callable[[], Any]) -> Any:
    with views_forbidden(runtime) as touched:
        done = command()
    assert touched == []
    return done


@pytest.fixture
def stale(runtime: Runtime) -> Runtime:
    """Two organizations with members (one named by email) and a key, all in the log; the views
    are left where they were, so that anything that reads them would have to catch them up."""
    create(runtime, "org-1")
    create(runtime, "org-2")
    add(runtime, "org-1", ("u-1", "internal_user"), ("u-2", "org_admin"))
    add(runtime, "org-1", ("known@example.com", "internal_user"), by_email=True)
    runtime.ledger.generate_key(GenerateKey(actor=ADMIN, user_id="u-1", organization_id="org-1"))
    return runtime


def test_organization_commands_read_no_views(stale: Runtime) -> None:
    ledger = stale.ledger
    run_alone(stale, lambda: ledger.create_org(CreateOrg(actor=ADMIN, organization_alias="new",
                                                         organization_id="org-3")))
    run_alone(stale, lambda: ledger.update_org(UpdateOrg(
        actor=ADMIN, organization_id="org-1", organization_alias="renamed",
        limits=BudgetLimits(max_budget=10.0))))
    done = run_alone(stale, lambda: ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["org-1"])))
    assert done.organization_ids == ["org-1"] and len(done.tokens) == 1


def test_member_commands_read_no_views(stale: Runtime) -> None:
    ledger = stale.ledger
    # Members named by id, by a known email and by a new one.
    done = run_alone(stale, lambda: ledger.add_members(AddMembers(actor=ADMIN, organization_id="org-2", members=[
        NewMember(role="internal_user", user_id="u-1"),
        NewMember(role="internal_user", user_email="known@example.com"),
        NewMember(role="org_admin", user_email="new@example.com"),
    ])))
    [_, known, new] = done.user_ids
    assert new != known
    run_alone(stale, lambda: ledger.update_member(UpdateMember(
        actor=ADMIN, organization_id="org-2", user_email="new@example.com", role="internal_user",
        max_budget_in_organization=5.0)))
    done = run_alone(stale, lambda: ledger.remove_member(RemoveMember(
        actor=ADMIN, organization_id="org-2", user_email="known@example.com")))
    assert done.user_ids == [known]


def test_identity_commands_read_no_views(stale: Runtime) -> None:
    ledger = stale.ledger
    run_alone(stale, lambda: ledger.create_user(CreateUser(actor=ADMIN, user_email="known@example.com")))
    run_alone(stale, lambda: ledger.generate_key(GenerateKey(actor=ADMIN, user_id="u-2",
                                                             organization_id="org-2")))


def test_a_failing_catch_up_after_the_commit_leaves_the_write_done(stale: Runtime) -> None:
    hooks = getattr(getattr(stale.ledger.recorder, "group", None), "after_commit", [])
    if stale.settings.backend != "sqlite":
        assert not hooks  # only SQLite in one process catches up in the batch's writer
        return
    assert hooks
    before = stale.projector.applied

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise ViewsTouched("views.db is failing")

    stale.store.transaction = refused  # type: ignore[method-assign]
    try:
        done = stale.ledger.add_members(AddMembers(actor=ADMIN, organization_id="org-2", members=[
            NewMember(role="internal_user", user_id="u-9")]))
    finally:
        del stale.store.transaction
    assert done.position > before
    assert stale.projector.applied == before  # not shown yet: the caller's settle does it
    assert stale.settle(done.position)
    assert "u-9" in {m["user_id"] for m in stale.queries.org("org-2")["members"]}
