"""Concurrent commands share catch-ups; each must still read its own write."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.application.commands import CreateOrg
from orgledger.domain.values import Actor
from tests.conftest import make_settings

from .helpers import views_left_behind


def test_every_writer_reads_its_own_write_while_catch_ups_are_shared(runtime: Runtime) -> None:
    actor = Actor(user_id="admin")

    def create_and_read(n: int) -> bool:
        done = runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias=f"org {n}"))
        # org_after settles (catches up) and reads the view: the organization must be there.
        return runtime.org_after(done, done.organization_ids[0])["organization_alias"] == f"org {n}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(create_and_read, range(40)))
    with runtime.read() as cur:
        assert len(runtime.organizations.orgs(cur)) == 40


def test_a_settled_position_needs_no_catch_up_and_a_new_one_does(runtime: Runtime) -> None:
    actor = Actor(user_id="admin")
    first = runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias="first"))
    runtime.settle(first.position)
    # Already applied: nothing is read from the log.
    assert runtime.projector.catch_up(until=first.position) == 0
    with views_left_behind(runtime):
        second = runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias="second"))
    if runtime.inline_projector:
        assert runtime.projector.catch_up(until=second.position) == second.position - first.position
    assert runtime.org_after(second, second.organization_ids[0])["organization_alias"] == "second"


def test_the_batch_writer_shows_its_own_events_without_reading_them_back(tmp_path: Path) -> None:
    settings = make_settings("sqlite", tmp_path)
    runtime, elsewhere = build_runtime(settings), build_runtime(settings)
    try:
        reads: list[object] = []
        select = runtime.ledger.recorder.select_notifications

        def counted(*args: object, **kwargs: object) -> object:
            reads.append(args)
            return select(*args, **kwargs)

        runtime.ledger.recorder.select_notifications = counted  # type: ignore[method-assign]
        actor = Actor(user_id="admin")
        first = runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias="first"))
        assert runtime.projector.applied == first.position and reads == []
        # Written by another process: the next batch does not follow on, so the log is read.
        with views_left_behind(elsewhere):
            elsewhere.ledger.create_org(CreateOrg(actor=actor, organization_alias="elsewhere"))
        second = runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias="second"))
        assert runtime.projector.applied == second.position and len(reads) == 1
        with runtime.read() as cur:
            aliases = {o["organization_alias"] for o in runtime.organizations.orgs(cur)}
        assert aliases == {"first", "elsewhere", "second"}
    finally:
        elsewhere.close()
        runtime.close()
