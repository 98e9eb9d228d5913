"""member_add's cost grows linearly with the members of one call (issue 11: it was quadratic,
357 s for 25,000). The edge allows 1,000 per call; the ledger and the views take any number, so
1,000 and 4,000 here make a quadratic step stand out as a ratio."""

from __future__ import annotations

import time
from pathlib import Path

from orgledger.adapters.runtime import build_runtime
from orgledger.application.commands import AddMembers, CreateOrg, NewMember
from orgledger.domain.values import Actor
from tests.conftest import make_settings

ACTOR = Actor(user_id="default_user_id")
SMALL, LARGE = 1000, 4000


def _add(runtime, org_alias: str, count: int) -> tuple[float, list[str], list, list]:  # type: ignore[no-untyped-def]
    """CPU seconds to add `count` members (half by id, half by email; two exist already) to a new
    organization and show them, with the users and memberships the views then show."""
    org_id = runtime.ledger.create_org(CreateOrg(actor=ACTOR, organization_alias=org_alias)).organization_ids[0]
    members = [NewMember(role="internal_user", user_id="old-1"), NewMember(role="org_admin", user_email="old@x.io")]
    members += [NewMember(role="internal_user", user_id=f"{org_alias}{i}") if i % 2 else
                NewMember(role="internal_user", user_email=f"{org_alias}{i}@x.io") for i in range(count - 2)]
    # CPU time, not wall time: other processes on a shared machine do not count.
    started = time.process_time()
    done = runtime.ledger.add_members(AddMembers(actor=ACTOR, organization_id=org_id, members=members))
    runtime.settle(done.position)
    with runtime.read() as cur:
        users = runtime.organizations.users(cur, done.user_ids)
        memberships = runtime.organizations.memberships(cur, org_id, done.user_ids)
    return time.process_time() - started, done.user_ids, users, memberships


def test_adding_members_in_one_command_costs_linearly(tmp_path: Path) -> None:
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    try:
        org_id = runtime.ledger.create_org(CreateOrg(actor=ACTOR, organization_alias="first")).organization_ids[0]
        # A few members exist already: they are found, not created again.
        runtime.ledger.add_members(AddMembers(actor=ACTOR, organization_id=org_id, members=[
            NewMember(role="internal_user", user_id="old-1"), NewMember(role="internal_user", user_email="old@x.io")]))
        runtime.sync()
        small, *_ = _add(runtime, "s", SMALL)
        large, user_ids, users, memberships = _add(runtime, "l", LARGE)
        assert len(user_ids) == len(users) == len(memberships) == LARGE
        assert [m["user_id"] for m in memberships] == user_ids
        assert user_ids[0] == "old-1" and users[1]["user_email"] == "old@x.io"
        assert len(set(user_ids)) == LARGE
        # Four times the members: about four times the CPU when linear, sixteen when quadratic.
        assert large / small < 8, f"{SMALL} members took {small:.2f} s of CPU, {LARGE} took {large:.2f} s"
    finally:
        runtime.close()
