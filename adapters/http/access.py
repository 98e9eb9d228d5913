"""Virtual keys and permissions at the edge: who a key belongs to, and what the RBAC rules
need to know about the caller and the request."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from orgledger.domain import permissions
from orgledger.domain.key import token_from_key_or_token
from orgledger.domain.permissions import Action, Principal, Target
from orgledger.domain.values import USER_ROLES
from orgledger.projections.base import iso

from orgledger.adapters.http.auth import Caller
from orgledger.adapters.http.errors import ProxyError
from orgledger.adapters.http.queries import Queries


class VirtualKeys:
    """The Authenticator's hook: a key's caller, from the keys and users views."""

    def __init__(self, queries: Queries) -> None:
        self.queries = queries

    def __call__(self, key: str, token: str) -> Caller | None:
        # Cached until the views change, so a revocation counts from its commit on; expiry is
        # a matter of time, so it is checked on every request.
        found = self.queries.key_holder(token)
        if found is None:
            return None
        row, users = found
        now = datetime.now(timezone.utc)
        if row["expires"] is not None and _parse(row["expires"]) <= now:
            raise ProxyError(
                400,
                f"Authentication Error - Expired Key. Key Expiry time {row['expires']} and "
                f"current time {iso(now)}",
                type="expired_key",
            )
        role = users[0]["user_role"] if users else "internal_user"
        return Caller(
            user_id=row["user_id"],
            role=role if role in USER_ROLES else "internal_user",
            api_key_hash=token,
            models=tuple(row["models"]),
            organization_id=row["organization_id"],
            known_user=bool(users),
        )


# What each route asks to do (the deprecated POST /organization/info reads, as GET does).
ROUTE_ACTIONS = {
    "/organization/new": Action.CREATE_ORG,
    "/organization/info": Action.READ_ORG,
    "/organization/list": Action.LIST_ORGS,
    "/organization/update": Action.UPDATE_ORG,
    "/organization/delete": Action.DELETE_ORG,
    "/organization/member_add": Action.ADD_MEMBER,
    "/organization/member_update": Action.UPDATE_MEMBER,
    "/organization/member_delete": Action.REMOVE_MEMBER,
    "/user/new": Action.CREATE_USER,
    "/user/info": Action.READ_USER,
    "/key/generate": Action.GENERATE_KEY,
    "/key/delete": Action.DELETE_KEY,
}


def authorize(queries: Queries, route: str, caller: Caller, body: dict[str, Any],
              query: dict[str, str]) -> None:
    """Raise NotAuthorizedError unless the caller may do what `route` does to what the request names."""
    if caller.is_proxy_admin:
        return
    action = ROUTE_ACTIONS[route]
    memberships = queries.roles_of(caller.user_id)
    owners: tuple[str | None, ...] = ()
    if action is Action.DELETE_KEY:
        owners = queries.key_owners([token_from_key_or_token(k) for k in _strings(body.get("keys"))])
    who = Principal(user_id=caller.user_id, role=caller.role, known_user=caller.known_user,
                    memberships=memberships)
    permissions.authorize(action, who, target(action, body, query, owners), route)


def target(action: Action, body: dict[str, Any], query: dict[str, str],
           key_owners: tuple[str | None, ...] = ()) -> Target:
    """The organizations and user a request names, from its query string or its body."""
    organization_ids = [v for v in (query.get("organization_id"), body.get("organization_id"))
                        if isinstance(v, str)]
    if action is Action.READ_ORG:
        organization_ids += _strings(body.get("organizations"))
    user_id = query.get("user_id") if "user_id" in query else body.get("user_id")
    return Target(
        organization_ids=tuple(dict.fromkeys(organization_ids)),
        user_id=user_id if isinstance(user_id, str) else None,
        key_owners=key_owners,
    )


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
