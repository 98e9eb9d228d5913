"""Who may call which organization endpoint: LiteLLM's RBAC rules as pure functions."""

from __future__ import annotations

from .errors import NotAuthorizedError


def mask(user_id: str | None) -> str:
    if not user_id:
        return "unknown"
    return user_id[:2] + "*" * max(len(user_id) - 4, 0) + user_id[-2:] if len(user_id) > 4 else "*" * len(user_id)


def only_proxy_admin(route: str, role: str | None, user_id: str | None) -> NotAuthorizedError:
    return NotAuthorizedError(
        "Authentication Error, Only proxy admin can be used to generate, delete, update info for "
        f"new keys/users/teams. Route={route}. Your role={role or 'unknown'}. "
        f"Your user_id={mask(user_id)}"
    )


def authorize(route: str, role: str, user_id: str | None) -> None:
    """Raise NotAuthorizedError unless the caller may call `route` at all."""
    if role == "proxy_admin" or route == "/organization/list":
        return
    raise only_proxy_admin(route, role, user_id)
