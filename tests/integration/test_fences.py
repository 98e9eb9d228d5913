"""Fences (adapters/persistence/fences.py): appends conditioned on a fenced organization wait for the
command holding the fence, and a fence never outlives its command."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from orgledger.adapters.persistence.sqlite_fences import LEASE_SECONDS
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.application import retry
from orgledger.application.commands import DeleteOrgs
from orgledger.domain.errors import OrganizationNotFoundError
from orgledger.domain.organization import Organization

from .helpers import ADMIN, add, create, member_roles, topics_since


@pytest.fixture
def pair(settings: Settings, runtime: Runtime) -> Iterator[tuple[Runtime, Runtime]]:
    """Who fences and who joins: on SQLite and PostgreSQL two runtimes with their own pools, as
    two worker processes; POPO serves from one process, so there both are the same runtime."""
    if settings.backend == "popo":
        yield runtime, runtime
        return
    other = build_runtime(settings)
    try:
        yield runtime, other
    finally:
        other.close()


def test_a_join_waits_while_its_organization_is_fenced(pair: tuple[Runtime, Runtime]) -> None:
    fencer, joiner = pair
    create(fencer, "a")
    head = fencer.ledger.recorder.max_notification_id()
    outcome: list[object] = []
    with fencer.ledger.recorder.fence([Organization.create_id("a")]):  # type: ignore[attr-defined]
        thread = threading.Thread(target=lambda: outcome.append(add(joiner, "a", ("u1", "internal_user"))))
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), outcome  # held off, and nothing written meanwhile
        assert topics_since(fencer, head) == []
    thread.join(10)
    assert not thread.is_alive() and not isinstance(outcome[0], Exception), outcome
    assert member_roles(joiner, "a") == {"u1": "internal_user"}


def test_a_fence_on_one_organization_holds_off_no_other(pair: tuple[Runtime, Runtime]) -> None:
    fencer, joiner = pair
    for organization_id in ("a", "b"):
        create(fencer, organization_id)
    with fencer.ledger.recorder.fence([Organization.create_id("a")]):  # type: ignore[attr-defined]
        started = time.monotonic()
        add(joiner, "b", ("u1", "internal_user"))
        assert time.monotonic() - started < 2


def test_a_refused_delete_takes_its_fences_down(pair: tuple[Runtime, Runtime]) -> None:
    deleter, joiner = pair
    create(deleter, "a")
    # "a" is fenced before "missing" is found to be missing.
    with pytest.raises(OrganizationNotFoundError):
        deleter.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["a", "missing"]))
    retries: list[str] = []
    retry.conflict_observers.append(retries.append)
    try:
        add(joiner, "a", ("u1", "internal_user"))
    finally:
        retry.conflict_observers.remove(retries.append)
    assert retries == []  # never found "a" fenced
    assert member_roles(joiner, "a") == {"u1": "internal_user"}


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_fence_whose_holder_died_lapses_after_its_lease(pair: tuple[Runtime, Runtime]) -> None:
    dead, joiner = pair
    create(dead, "a")
    fences = dead.ledger.recorder.fences  # type: ignore[attr-defined]
    # Put up, as by a process killed before it could take it down, with a second of its lease left.
    fences.clock = lambda: time.time() - LEASE_SECONDS + 1.0
    fences._write(lambda c: fences._put_up(c, "dead-holder", [Organization.create_id("a")]))
    started = time.monotonic()
    add(joiner, "a", ("u1", "internal_user"))
    assert 0.5 < time.monotonic() - started < 10
    assert member_roles(joiner, "a") == {"u1": "internal_user"}
