"""An organization's delete completes while members keep streaming into it.

Eight clients add members to one organization without pause; a delete sent meanwhile must not
wait for the stream to stop (it used to lose every race: each join that landed after it read the
member list refused its save, and it was decided again, for as long as the joins went on)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.application import retry
from orgledger.application.commands import DeleteOrgs
from orgledger.domain.errors import OrganizationNotFoundError
from orgledger.domain.membership import Membership

from .helpers import ADMIN, add, create
from .test_concurrency import assert_no_membership_outlives_its_organization

CLIENTS = 8
WARM_UP = 1.0  # seconds of joins before the delete
STREAM_LIMIT = 10.0  # the clients stop by then whatever happens, so a starved delete ends too
DELETE_WITHIN = 3.0  # seconds
MAX_DELETE_RETRIES = 2


@pytest.fixture
def writers(settings: Settings, runtime: Runtime) -> Iterator[list[Runtime]]:
    """On PostgreSQL a second runtime with pools of its own, as a second worker process has;
    SQLite and POPO serve from one process."""
    if settings.backend != "postgres":
        yield [runtime]
        return
    other = build_runtime(settings)
    try:
        yield [runtime, other]
    finally:
        other.close()


class JoinStream:
    """Clients that add one member per command, as fast as they can, until the organization is
    gone or the stream's time is up; each remembers who it added and how it stopped."""

    def __init__(self, writers: list[Runtime], organization_id: str) -> None:
        self.organization_id = organization_id
        self.deadline = time.monotonic() + STREAM_LIMIT
        self.added: list[str] = []
        self.endings: list[Any] = []
        self.threads = [threading.Thread(target=self.client, args=(writers[n % len(writers)], n))
                        for n in range(CLIENTS)]

    def client(self, runtime: Runtime, n: int) -> None:
        i = 0
        try:
            while time.monotonic() < self.deadline:
                user_id = f"c{n}-u{i}"
                done = add(runtime, self.organization_id, (user_id, "internal_user"))
                runtime.settle(done.position)  # as member_add over HTTP answers: views caught up
                self.added.append(user_id)
                i += 1
            self.endings.append("time up")
        except Exception as e:  # asserted on by the test
            self.endings.append(e)

    def __enter__(self) -> JoinStream:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for t in self.threads:
            t.join(STREAM_LIMIT + 30)


def test_a_delete_racing_a_stream_of_joins_completes_promptly(writers: list[Runtime]) -> None:
    create(writers[0], "crowd")
    deleter = writers[-1]
    retries: list[str] = []
    observe = retries.append
    retry.conflict_observers.append(observe)
    try:
        with JoinStream(writers, "crowd") as stream:
            time.sleep(WARM_UP)
            joined_before = len(stream.added)
            started = time.monotonic()
            deleter.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["crowd"]))
            took = time.monotonic() - started
    finally:
        retry.conflict_observers.remove(observe)
    delete_retries = retries.count("delete_orgs")
    assert joined_before > CLIENTS, "the stream did not get going"
    assert took < DELETE_WITHIN, f"the delete took {took:.1f} s and {delete_retries} retries"
    assert delete_retries <= MAX_DELETE_RETRIES, f"{delete_retries} retries in {took:.2f} s"
    # Every client was stopped by the delete, not by the time limit or an error.
    assert len(stream.endings) == CLIENTS
    assert all(isinstance(e, OrganizationNotFoundError) for e in stream.endings), stream.endings
    # No member left behind: not in the views, not in the log's state.
    deleter.sync()
    with deleter.read() as cur:
        left = cur.execute("SELECT user_id FROM memberships WHERE organization_id=?", ("crowd",)).all()
    assert left == []
    repository = deleter.ledger.repository
    assert all(repository.get(Membership.create_id("crowd", u)).removed for u in stream.added)
    assert_no_membership_outlives_its_organization(deleter)
