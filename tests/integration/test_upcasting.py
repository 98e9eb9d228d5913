from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec

from orgledger.adapters.runtime import build_runtime
from orgledger.application.commands import AddMembers, CreateOrg, NewMember, RemoveMember
from orgledger.domain.ids import membership_uuid
from orgledger.domain.membership import Membership
from orgledger.domain.values import Actor
from tests.conftest import make_settings

TOPIC = "orgledger.domain.membership:Membership.MemberRemoved"
ADMIN = Actor(user_id="admin-1")


def test_a_member_removed_event_stored_as_v1_reads_back_through_its_upcaster(tmp_path: Path) -> None:
    settings = make_settings("sqlite", tmp_path)
    # An organization with two members, written by today's code.
    runtime = build_runtime(settings)
    org_id = runtime.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias="acme")).organization_ids[0]
    runtime.ledger.add_members(AddMembers(actor=ADMIN, organization_id=org_id, members=[
        NewMember(role="org_admin", user_id="u1"), NewMember(role="internal_user", user_id="u2"),
    ]))
    runtime.close()
    # An older release removed u1: its MemberRemoved (v1) had no role and no class_version.
    v1_state = {
        "organization_id": org_id, "user_id": "u1", "timestamp": "2026-01-05T10:00:00+00:00",
        "actor": {"user_id": "admin-1", "api_key_hash": None, "request_id": "req-old"},
    }
    with sqlite3.connect(settings.data_dir / "events.db") as db:
        db.execute("INSERT INTO stored_events VALUES (?,?,?,?)",
                   (membership_uuid(org_id, "u1").hex, 2, TOPIC, msgspec.json.encode(v1_state)))

    # Today's code reads it as v2, with the role unknown.
    runtime = build_runtime(settings)
    *_, removed = runtime.ledger.events.get(membership_uuid(org_id, "u1"))
    assert isinstance(removed, Membership.MemberRemoved) and removed.class_version == 2
    assert (removed.role, removed.user_id, removed.actor.request_id) == (None, "u1", "req-old")
    assert runtime.ledger.repository.get(membership_uuid(org_id, "u1")).removed
    # The views applied it too: only u2 is left.
    with runtime.read() as cur:
        assert runtime.organizations.member_ids(cur, org_id) == ["u2"]

    # New removals are stored as v2, with the role.
    runtime.ledger.remove_member(RemoveMember(actor=ADMIN, organization_id=org_id, user_id="u2"))
    runtime.close()
    with sqlite3.connect(settings.data_dir / "events.db") as db:
        rows = db.execute("SELECT state FROM stored_events WHERE topic=? ORDER BY rowid", (TOPIC,)).fetchall()
    states = [msgspec.json.decode(r[0]) for r in rows]
    assert [(s.get("class_version"), s.get("role")) for s in states] == [(None, None), (2, "internal_user")]
