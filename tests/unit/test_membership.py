"""Given/when/then tests of the Membership aggregate: one per (organization, user)."""

from __future__ import annotations

import pytest

from orgledger.domain.errors import (
    InvalidRoleError,
    MemberExistsError,
    MemberNotFoundError,
    OrganizationDeletedError,
)
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.values import ORG_ROLES, Actor

ADMIN = Actor(user_id="default_user_id")


def active_org() -> Organization:
    org = Organization(organization_id="org-1", organization_alias="a", budget_id="b", models=[],
                       metadata={}, object_permission=None, actor=ADMIN)
    org.collect_events()
    return org


def joined(role: str = "internal_user") -> Membership:
    membership = Membership.join(active_org(), "u-1", role, ADMIN)
    membership.collect_events()
    return membership


@pytest.mark.parametrize("role", ORG_ROLES)
def test_a_user_joins_with_any_role_inside_an_organization(role: str) -> None:
    membership = Membership.join(active_org(), "u-1", role, ADMIN)
    [added] = membership.collect_events()
    assert isinstance(added, Membership.MemberAdded)
    assert (added.organization_id, added.user_id, added.role, added.actor) == ("org-1", "u-1", role, ADMIN)
    assert membership.budget_id is None and not membership.removed


@pytest.mark.parametrize("role", ["proxy_admin", "admin", "", "ORG_ADMIN"])
def test_roles_outside_an_organization_are_refused(role: str) -> None:
    with pytest.raises(InvalidRoleError, match="Invalid role. Must be one of"):
        Membership.join(active_org(), "u-1", role, ADMIN)
    membership = joined()
    with pytest.raises(InvalidRoleError):
        membership.change_role(role, ADMIN)
    assert membership.collect_events() == []


def test_nobody_joins_a_deleted_organization() -> None:
    org = active_org()
    org.delete(ADMIN)
    with pytest.raises(OrganizationDeletedError):
        Membership.join(org, "u-1", "internal_user", ADMIN)


def test_one_membership_per_organization_and_user() -> None:
    # The id is the natural key: the store refuses a second MemberAdded for the same pair.
    assert Membership.create_id("org-1", "u-1") == joined().id
    assert Membership.create_id("org-1", "u-2") != Membership.create_id("org-2", "u-1")
    # And an active member cannot be added again.
    with pytest.raises(MemberExistsError):
        joined().rejoin(active_org(), "org_admin", ADMIN)


def test_a_removed_member_can_rejoin_with_a_fresh_role_and_no_budget() -> None:
    membership = joined()
    membership.set_budget("b-9", ADMIN)
    membership.remove(ADMIN)
    membership.collect_events()
    # When they rejoin.
    membership.rejoin(active_org(), "org_admin", ADMIN)
    [rejoined] = membership.collect_events()
    assert isinstance(rejoined, Membership.MemberRejoined)
    assert (membership.role, membership.budget_id, membership.removed) == ("org_admin", None, False)


def test_rejoining_a_deleted_organization_is_refused() -> None:
    membership = joined()
    membership.remove(ADMIN)
    org = active_org()
    org.delete(ADMIN)
    with pytest.raises(OrganizationDeletedError):
        membership.rejoin(org, "internal_user", ADMIN)


def test_role_change_records_an_event_only_when_the_role_changes() -> None:
    membership = joined("internal_user")
    membership.change_role("internal_user", ADMIN)
    assert membership.collect_events() == []
    membership.change_role("org_admin", ADMIN)
    [changed] = membership.collect_events()
    assert isinstance(changed, Membership.RoleChanged) and changed.role == "org_admin"


def test_budget_change_records_the_budget_id() -> None:
    membership = joined()
    membership.set_budget("b-2", ADMIN)
    membership.set_budget("b-2", ADMIN)
    events = membership.collect_events()
    assert [type(e) for e in events] == [Membership.MemberBudgetChanged]
    assert membership.budget_id == "b-2"


def test_a_removed_member_cannot_be_changed_or_removed_again() -> None:
    membership = joined()
    membership.remove(ADMIN)
    [removed] = membership.collect_events()
    assert isinstance(removed, Membership.MemberRemoved) and removed.user_id == "u-1"
    with pytest.raises(MemberNotFoundError, match="Member not found in organization for user_id=u-1"):
        membership.change_role("org_admin", ADMIN)
    with pytest.raises(MemberNotFoundError):
        membership.set_budget("b", ADMIN)
    with pytest.raises(MemberNotFoundError):
        membership.remove(ADMIN)
    assert membership.collect_events() == []
