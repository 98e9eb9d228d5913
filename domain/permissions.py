"""Who may call which endpoint: LiteLLM's RBAC (reference §2) as pure functions, with the fixes
orgledger makes: an org_admin may read their organization and delete its members, and never acts
on another organization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import NotAuthorizedError, ProxyAdminOnlyError

# Routes an org_admin may call for an organization they administer (LiteLLM's
# org_admin_only_routes, plus member_delete).
ORG_ADMIN_ROUTES = (
    "/organization/info",
    "/organization/delete",
    "/organization/member_add",
    "/organization/member_update",
    "/organization/member_delete",
)
# Routes anyone with a key may call; what they see is filtered to their memberships.
OPEN_ROUTES = ("/organization/list",)
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


def authorize(route: str, who: Principal, target: Target) -> None:
    """Raise NotAuthorizedError (or ProxyAdminOnlyError) unless `who` may call `route` on `target`."""
    if who.is_proxy_admin:
        return
    if route == "/organization/new":
        if who.known_user:
            raise NotAuthorizedError(
                f"Only proxy admins can create new organizations. You are {who.role}",
                param="user_role",
            )
        raise refuse(route, who)
    if route in OPEN_ROUTES:
        return
    if route in ORG_ADMIN_ROUTES:
        if not who.known_user:
            raise refuse(route, who)
        organization_ids = target.organization_ids or (None,)
        for organization_id in organization_ids:
            require_org_role(route, who, organization_id, ("org_admin",))
        if route == "/organization/delete":
            raise ProxyAdminOnlyError("Only proxy admins can delete organizations")
        return
    if route == "/user/info":
        if who.role == "proxy_admin_viewer" or _is_self(who, target.user_id):
            return
        raise refuse(route, who)
    if route == "/key/generate":
        if who.role in VIEWER_ROLES or not _is_self(who, target.user_id):
            raise refuse(route, who)
        for organization_id in target.organization_ids:
            require_org_role(route, who, organization_id, ("org_admin", "internal_user",
                                                           "internal_user_viewer"))
        return
    if route == "/key/delete":
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
