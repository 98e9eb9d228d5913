"""The RBAC rules on their own: orgledger's fixes to LiteLLM's §2, beyond the HTTP matrix."""

from __future__ import annotations

import pytest

from orgledger.adapters.http.access import ROUTE_ACTIONS
from orgledger.domain import permissions
from orgledger.domain.errors import NotAuthorizedError
from orgledger.domain.permissions import Principal, Target



def authorize(route: str, who: Principal, target: Target) -> None:
    """The rules for what `route` does, named as the HTTP adapter names it."""
    permissions.authorize(ROUTE_ACTIONS[route], who, target, route)


ADMIN_OF_A = Principal(user_id="alice", role="internal_user", memberships={"A": "org_admin", "B": "internal_user"})


@pytest.mark.parametrize("route", ["/organization/info", "/organization/member_add",
                                   "/organization/member_update", "/organization/member_delete"])
def test_an_org_admin_acts_on_their_organization_only(route: str) -> None:
    authorize(route, ADMIN_OF_A, Target(organization_ids=("A",)))
    with pytest.raises(NotAuthorizedError, match="required role"):
        authorize(route, ADMIN_OF_A, Target(organization_ids=("B",)))
    with pytest.raises(NotAuthorizedError, match="do not have a role within"):
        authorize(route, ADMIN_OF_A, Target(organization_ids=("C",)))


def test_deprecated_info_needs_admin_rights_on_every_listed_organization() -> None:
    # LiteLLM returned any listed organization once one was administered; orgledger checks each.
    authorize("/organization/info", ADMIN_OF_A, Target(organization_ids=("A",)))
    with pytest.raises(NotAuthorizedError, match="Organization B"):
        authorize("/organization/info", ADMIN_OF_A, Target(organization_ids=("A", "B")))


def test_a_user_may_issue_keys_only_for_themself_and_in_organizations_they_belong_to() -> None:
    authorize("/key/generate", ADMIN_OF_A, Target())
    authorize("/key/generate", ADMIN_OF_A, Target(user_id="alice", organization_ids=("B",)))
    with pytest.raises(NotAuthorizedError, match="Route=/key/generate"):
        authorize("/key/generate", ADMIN_OF_A, Target(user_id="bob"))
    with pytest.raises(NotAuthorizedError, match="do not have a role within"):
        authorize("/key/generate", ADMIN_OF_A, Target(organization_ids=("C",)))


def test_viewers_may_not_issue_or_delete_keys() -> None:
    viewer = Principal(user_id="vic", role="internal_user_viewer")
    for route in ("/key/generate", "/key/delete"):
        with pytest.raises(NotAuthorizedError, match="Your role=internal_user_viewer"):
            authorize(route, viewer, Target(key_owners=("vic",)))


def test_a_user_deletes_only_their_own_keys() -> None:
    authorize("/key/delete", ADMIN_OF_A, Target(key_owners=("alice", "alice")))
    with pytest.raises(NotAuthorizedError):
        authorize("/key/delete", ADMIN_OF_A, Target(key_owners=("alice", "bob")))
    with pytest.raises(NotAuthorizedError):
        authorize("/key/delete", Principal(user_id=None, role="internal_user", known_user=False), Target())


def test_a_proxy_admin_viewer_reads_any_user_but_changes_nothing() -> None:
    viewer = Principal(user_id="pv", role="proxy_admin_viewer")
    authorize("/user/info", viewer, Target(user_id="anyone"))
    authorize("/organization/list", viewer, Target())
    for route in ("/organization/update", "/user/new"):
        with pytest.raises(NotAuthorizedError):
            authorize(route, viewer, Target(organization_ids=("A",)))
