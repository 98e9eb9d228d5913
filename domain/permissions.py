"""Who may do what: LiteLLM's RBAC (reference §2) as pure functions over actions, with the fixes
orgledger makes: an org_admin may read their organization and delete its members, and never acts
on another organization. LiteLLM's refusals name the route the caller used: the adapter that
maps routes onto actions passes it along as text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from .errors import NotAuthorizedError, ProxyAdminOnlyError



class Action(Enum):
    CREATE_ORG = "create an organization"
    READ_ORG = "read an organization"
    LIST_ORGS = "list organizations"
    UPDATE_ORG = "update an organization"
    DELETE_ORG = "delete an organization"
    ADD_MEMBER = "add members"
    UPDATE_MEMBER = "update a member"
    REMOVE_MEMBER = "remove a member"
    CREATE_USER = "create a user"
    READ_USER = "read a user"
    GENERATE_KEY = "generate a key"
    DELETE_KEY = "delete keys"


# What an org_admin may do for an organization they administer (LiteLLM's
# org_admin_only_routes, plus removing members).
ORG_ADMIN_ACTIONS = frozenset({
    Action.READ_ORG, Action.DELETE_ORG, Action.ADD_MEMBER, Action.UPDATE_MEMBER, Action.REMOVE_MEMBER,
})
# Global roles that may look but not create or delete keys.
VIEWER_ROLES = ("proxy_admin_viewer", "internal_user_viewer")


@dataclass(frozen=True)
class Principal:
    """The caller as RBAC sees them. `known_user` is False for a key without a user row:
    LiteLLM then skips its organization checks and answers with the generic message."""

    user_id: str | None
    role: str
    known_user: bool = True
    memberships: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_proxy_admin(self) -> bool:
        return self.role == "proxy_admin"


@dataclass(frozen=True)
class Target:
    """What a request acts on, read from its body or query string."""

    organization_ids: tuple[str, ...] = ()
    user_id: str | None = None
    key_owners: tuple[str | None, ...] = ()


def mask(user_id: str | None) -> str:
    if not user_id:
        return "unknown"
    return user_id[:2] + "*" * max(len(user_id) - 4, 0) + user_id[-2:] if len(user_id) > 4 else "*" * len(user_id)


def only_proxy_admin(route: str, role: str | None, user_id: str | None) -> NotAuthorizedError:
    """LiteLLM's generic refusal; `role` is None for a key without a user row."""
    return NotAuthorizedError(
        "Authentication Error, Only proxy admin can be used to generate, delete, update info for "
        f"new keys/users/teams. Route={route}. Your role={role or 'unknown'}. "
        f"Your user_id={mask(user_id)}"
    )


def refuse(route: str, who: Principal) -> NotAuthorizedError:
    return only_proxy_admin(route, who.role if who.known_user else None, who.user_id)


def authorize(action: Action, who: Principal, target: Target, route: str) -> None:
    """Raise NotAuthorizedError (or ProxyAdminOnlyError) unless `who` may do `action` on
    `target`; `route` is how the caller asked, as LiteLLM's messages name it."""
    if who.is_proxy_admin:
        return
    if action is Action.CREATE_ORG:
        if who.known_user:
            raise NotAuthorizedError(
                f"Only proxy admins can create new organizations. You are {who.role}",
                param="user_role",
            )
        raise refuse(route, who)
    if action is Action.LIST_ORGS:  # what they see is filtered to their memberships
        return
    if action in ORG_ADMIN_ACTIONS:
        if not who.known_user:
            raise refuse(route, who)
        organization_ids = target.organization_ids or (None,)
        for organization_id in organization_ids:
            require_org_role(route, who, organization_id, ("org_admin",))
        if action is Action.DELETE_ORG:
            raise ProxyAdminOnlyError("Only proxy admins can delete organizations")
        return
    if action is Action.READ_USER:
        if who.role == "proxy_admin_viewer" or _is_self(who, target.user_id):
            return
        raise refuse(route, who)
    if action is Action.GENERATE_KEY:
        if who.role in VIEWER_ROLES or not _is_self(who, target.user_id):
            raise refuse(route, who)
        for organization_id in target.organization_ids:
            require_org_role(route, who, organization_id, ("org_admin", "internal_user",
                                                           "internal_user_viewer"))
        return
    if action is Action.DELETE_KEY:
        owns_all = who.user_id is not None and all(o == who.user_id for o in target.key_owners)
        if who.role in VIEWER_ROLES or not owns_all:
            raise refuse(route, who)
        return
    raise refuse(route, who)


def require_org_role(route: str, who: Principal, organization_id: str | None,
                     roles: tuple[str, ...]) -> None:
    """LiteLLM's organization checks, with its texts, in its order."""
    if not who.memberships:
        raise NotAuthorizedError(
            f"Tried to access route={route} but you are not a member of any organization. "
            "Please contact the proxy admin to request access."
        )
    if organization_id is None:
        raise NotAuthorizedError(
            "Passed organization_id is None, please pass an organization_id in your request",
            param="organization_id",
        )
    role = who.memberships.get(organization_id)
    if role is None:
        raise NotAuthorizedError(
            "You do not have a role within the selected organization. Passed organization_id: "
            f"{organization_id}. Please contact the organization admin to request access."
        )
    if role not in roles:
        raise NotAuthorizedError(
            f"You do not have the required role to perform {route} in Organization "
            f"{organization_id}. Your role is {role} in Organization {organization_id}",
            param="user_role",
        )


def _is_self(who: Principal, user_id: str | None) -> bool:
    """A target user that is the caller; no target means the caller, when they have an id."""
    return who.user_id is not None and (user_id is None or user_id == who.user_id)
