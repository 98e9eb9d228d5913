"""member_add's cost grows linearly with the members of one call (issue 11: it was quadratic,
357 s for 25,000). The edge allows 1,000 per call; the ledger and the views take any number, so
5,000 here make a quadratic step stand out against the bound."""

from __future__ import annotations

import time
from pathlib import Path

from orgledger.adapters.runtime import build_runtime
from orgledger.application.commands import AddMembers, CreateOrg, NewMember
from orgledger.domain.values import Actor
from tests.conftest import make_settings

ACTOR = Actor(user_id="default_user_id")
MEMBERS = 5000


def test_adding_5000_members_in_one_command_is_linear(tmp_path: Path) -> None:
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    try:
        org_id = runtime.ledger.create_org(CreateOrg(actor=ACTOR, organization_alias="big")).organization_ids[0]
        # A few members exist already: they are found, not created again.
        runtime.ledger.add_members(AddMembers(actor=ACTOR, organization_id=org_id, members=[
            NewMember(role="internal_user", user_id="old-1"), NewMember(role="internal_user", user_email="old@x.io")]))
        runtime.sync()
        other = runtime.ledger.create_org(CreateOrg(actor=ACTOR, organization_alias="other")).organization_ids[0]
        members = [NewMember(role="internal_user", user_id="old-1"), NewMember(role="org_admin", user_email="old@x.io")]
        members += [NewMember(role="internal_user", user_id=f"u{i}") if i % 2 else
                    NewMember(role="internal_user", user_email=f"u{i}@x.io") for i in range(MEMBERS - 2)]
        started = time.perf_counter()
        done = runtime.ledger.add_members(AddMembers(actor=ACTOR, organization_id=other, members=members))
        runtime.settle(done.position)
        with runtime.read() as cur:
            users = runtime.organizations.users(cur, done.user_ids)
            memberships = runtime.organizations.memberships(cur, other, done.user_ids)
        seconds = time.perf_counter() - started
        assert len(done.user_ids) == len(users) == len(memberships) == MEMBERS
        assert [m["user_id"] for m in memberships] == done.user_ids
        assert done.user_ids[0] == "old-1" and users[1]["user_email"] == "old@x.io"
        assert len(set(done.user_ids)) == MEMBERS
        # About 1 s on a shared 2-core machine; the quadratic version took over 5 s.
        assert seconds < 3.0, f"{MEMBERS} members took {seconds:.2f} s"
    finally:
        runtime.close()
