"""How events read as audit entries, including events of aggregates this branch does not have yet."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.domain import Aggregate, event

from orgledger.domain.values import Actor
from orgledger.projections.audit_entries import KEY, MEMBERSHIP, describe

ACTOR = Actor(user_id="admin", api_key_hash="f" * 64, request_id="req-1")


class Key(Aggregate):
    """Shaped like the identity branch's virtual key (only its event names matter here)."""

    @event("KeyIssued")
    def __init__(self, token_hash: str, user_id: str, organization_id: str | None, actor: Actor) -> None:
        self.token_hash = token_hash

    @event("KeyRevoked")
    def revoke(self, token_hash: str, actor: Actor) -> None:
        pass

    @event("KeyRenamed")
    def rename(self, token_hash: str, key_alias: str, actor: Actor) -> None:
        pass


class Widget(Aggregate):
    @event("WidgetMade")
    def __init__(self, widget_id: str, actor: Actor) -> None:
        pass


def test_key_events_are_verification_token_entries() -> None:
    key = Key(token_hash="ab" * 32, user_id="u1", organization_id="o1", actor=ACTOR)
    key.rename(token_hash="ab" * 32, key_alias="ci", actor=ACTOR)
    key.revoke(token_hash="ab" * 32, actor=ACTOR)
    issued, renamed, revoked = (describe(e) for e in key.collect_events())
    assert (issued.table_name, issued.object_id, issued.action) == (KEY, "ab" * 32, "created")
    assert issued.values == {"token_hash": "ab" * 32, "user_id": "u1", "organization_id": "o1"}
    assert issued.organization_id == "o1"  # the organization's admins see it
    assert (renamed.action, renamed.values) == ("updated", {"token_hash": "ab" * 32, "key_alias": "ci"})
    assert (revoked.table_name, revoked.action, revoked.values) == (KEY, "deleted", None)


def test_unknown_events_still_make_one_entry() -> None:
    (made,) = Widget(widget_id="w1", actor=ACTOR).collect_events()
    change = describe(made)
    assert (change.table_name, change.object_id, change.action) == ("orgledger_Widget", "w1", "created")


def test_membership_entry_names_organization_and_user() -> None:
    from orgledger.domain.membership import Membership
    from orgledger.domain.organization import Organization

    org = Organization(organization_id="o1", organization_alias="a", budget_id=str(uuid4()), models=[],
                       metadata={}, object_permission=None, actor=ACTOR)
    membership = Membership.join(org, "u1", "org_admin", ACTOR)
    membership.change_role("internal_user", ACTOR)
    added, changed = (describe(e) for e in membership.collect_events())
    assert (added.table_name, added.object_id, added.action) == (MEMBERSHIP, "o1:u1", "created")
    assert added.values == {"organization_id": "o1", "user_id": "u1", "user_role": "org_admin",
                            "budget_id": None}
    assert (changed.action, changed.values) == ("updated", {"user_role": "internal_user"})


def test_entry_id_is_uuid5_of_originator_and_version() -> None:
    from dataclasses import dataclass
    from uuid import NAMESPACE_URL, UUID, uuid5

    from orgledger.projections.audit import entry_id

    @dataclass
    class Logged:
        originator_id: UUID
        originator_version: int

    for version in (1, 2, 1234567):
        e = Logged(uuid4(), version)
        assert entry_id(e) == str(uuid5(NAMESPACE_URL, f"orgledger:event/{e.originator_id}/{version}"))
