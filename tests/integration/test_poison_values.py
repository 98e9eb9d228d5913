"""Accepted events with very long ids, emails, aliases and metadata never poison a read model.

The values go through the application layer (OrgLedger commands), past whatever bounds the HTTP
edge sets, as events already in a log or written by other means would. On PostgreSQL a B-tree
index entry may hold at most 2,704 bytes, so a 3,000-character random value in a key used to stop
the projector for good (issue 11)."""

from __future__ import annotations

import random
from typing import Any

from orgledger.adapters.runtime import Runtime, projection_classes
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
from orgledger.domain.values import Actor
from orgledger.projections import rebuild
from orgledger.projections.audit import AuditFilter

# Letters from several scripts: random (PostgreSQL cannot compress it below its limit) and more
# bytes than characters in UTF-8.
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éßøπж漢字"


def poison(rng: random.Random, tag: str) -> str:
    return tag + "".join(rng.choice(ALPHABET) for _ in range(3000))


def dump(runtime: Runtime) -> dict[str, Any]:
    with runtime.read() as cur:
        return {
            (p.name, name): sorted((tuple(r.values()) for r in cur.execute(f"SELECT * FROM {table}").all()),
                                   key=repr)
            for p in runtime.projector.projections for name, table in p.t.items()
        }


def test_long_values_project_answer_and_rebuild_alike(runtime: Runtime) -> None:
    rng = random.Random(11)
    org_id, other_org = poison(rng, "org-"), poison(rng, "other-")
    alias, user_id, email = poison(rng, "alias-"), poison(rng, "user-"), poison(rng, "mail-") + "@x.io"
    member_email, key_alias, actor_id = poison(rng, "m-") + "@x.io", poison(rng, "key-"), poison(rng, "by-")
    metadata = {poison(rng, "k-"): poison(rng, "v-")}
    actor = Actor(user_id=actor_id, api_key_hash="a" * 64, request_id=poison(rng, "req-"))
    ledger = runtime.ledger

    ledger.create_org(CreateOrg(actor=actor, organization_alias=alias, organization_id=org_id,
                                metadata=metadata, models=[poison(rng, "model-")]))
    ledger.create_org(CreateOrg(actor=actor, organization_alias=alias, organization_id=other_org))
    ledger.create_user(CreateUser(actor=actor, user_id=user_id, user_email=email, metadata=metadata,
                                  key_alias=key_alias))
    ledger.add_members(AddMembers(actor=actor, organization_id=org_id, members=[
        NewMember(role="org_admin", user_id=user_id), NewMember(role="internal_user", user_email=member_email)]))
    ledger.add_members(AddMembers(actor=actor, organization_id=other_org, members=[
        NewMember(role="internal_user", user_id=user_id)]))
    ledger.update_org(UpdateOrg(actor=actor, organization_id=org_id, organization_alias=alias + "!",
                                metadata=metadata))
    ledger.update_member(UpdateMember(actor=actor, organization_id=org_id, user_email=member_email,
                                      role="internal_user_viewer", max_budget_in_organization=5.0))
    issued = ledger.generate_key(GenerateKey(actor=actor, user_id=user_id, key_alias=key_alias,
                                             organization_id=other_org))
    ledger.remove_member(RemoveMember(actor=actor, organization_id=other_org, user_id=user_id))
    ledger.add_members(AddMembers(actor=actor, organization_id=other_org, members=[
        NewMember(role="org_admin", user_id=user_id)]))
    ledger.delete_orgs(DeleteOrgs(actor=actor, organization_ids=[other_org]))
    # Neighbours whose keys share the poison's first characters: every look-up stays exact.
    short_twin, long_twin = org_id[:128], org_id[:2999] + "!"
    for twin in (short_twin, long_twin):
        ledger.create_org(CreateOrg(actor=actor, organization_alias=twin[-50:], organization_id=twin))
        ledger.add_members(AddMembers(actor=actor, organization_id=twin, members=[
            NewMember(role="internal_user", user_id=user_id[:128] if twin is short_twin else user_id + "!")]))
    runtime.sync()  # on PostgreSQL: waits for the projector, which used to fail on the first event

    view, keys, audit = runtime.organizations, runtime.keys, runtime.projection("audit")
    with runtime.read() as cur:
        org = view.org(cur, org_id)
        assert org is not None
        assert (org["organization_alias"], org["metadata"], org["created_by"]) == (alias + "!", metadata, actor_id)
        member_id = view.user_ids_by_email(cur, member_email)[0]
        assert [(m["user_id"], m["user_role"]) for m in org["members"]] == [
            (user_id, "org_admin"), (member_id, "internal_user_viewer")]
        assert [o["organization_id"] for o in view.orgs(cur, member=user_id)] == [org_id]
        assert view.member_ids(cur, short_twin) == [user_id[:128]]
        assert view.member_ids(cur, long_twin) == [user_id + "!"]
        assert [o["organization_id"] for o in view.orgs(cur, member=user_id + "!")] == [long_twin]
        assert view.roles_of(cur, user_id[:128]) == {short_twin: "internal_user"}
        assert [o["organization_id"] for o in view.orgs(cur, org_alias=alias[500:700].upper())] == [org_id]
        assert view.orgs(cur, org_id=other_org) == []
        assert [r["organization_id"] for r in view.raw_orgs(cur, [org_id, other_org])] == [org_id]
        membership = view.membership(cur, org_id, member_id)
        assert membership is not None and membership["litellm_budget_table"]["max_budget"] == 5.0
        assert view.roles_of(cur, user_id) == {org_id: "org_admin"}
        assert view.member_ids(cur, org_id) == [user_id, member_id]
        assert view.member_ids(cur, other_org) == []
        [user] = view.users(cur, [user_id])
        assert (user["user_email"], user["metadata"]) == (email, metadata)
        assert view.user_ids_by_email(cur, email) == [user_id]
        user_keys = keys.keys_of_user(cur, user_id)
        assert [k["key_alias"] for k in user_keys] == [key_alias]  # the org-bound key was revoked
        revoked = keys.key(cur, issued.new_key.token)  # type: ignore[union-attr]
        assert revoked is not None and revoked["revoked"] and revoked["organization_id"] == other_org
        assert keys.tokens_of_org(cur, other_org) == []
        entries = audit.page(cur, AuditFilter(object_id=org_id), 1, 100)["audit_logs"]
        assert [e["action"] for e in entries] == ["created", "updated"]
        assert audit.page(cur, AuditFilter(changed_by=actor_id), 1, 1)["total"] > 10
        scoped = audit.page(cur, AuditFilter(organization_ids=(other_org,)), 1, 100)["audit_logs"]
        assert ("OrgDeleted", other_org) in [(e["event_type"], e["object_id"]) for e in scoped]

    live = dump(runtime)
    rebuild.rebuild_all(runtime.ledger, runtime.store, projection_classes(), batch_size=3)
    assert dump(runtime) == live
