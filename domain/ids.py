"""Aggregate ids derived from natural keys, so the store itself enforces uniqueness."""

from __future__ import annotations

from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5


# The same organizations' ids are derived at every command on them (a UUID is immutable).
@lru_cache(maxsize=4096)
def _id(*parts: str) -> UUID:
    return uuid5(NAMESPACE_URL, "orgledger:" + "/".join(parts))


def organization_uuid(organization_id: str) -> UUID:
    return _id("organization", organization_id)


def membership_uuid(organization_id: str, user_id: str) -> UUID:
    return _id("membership", organization_id, user_id)


def budget_uuid(budget_id: str) -> UUID:
    return _id("budget", budget_id)


def user_uuid(user_id: str) -> UUID:
    return _id("user", user_id)


def key_uuid(token_hash: str) -> UUID:
    return _id("key", token_hash)


def idempotency_uuid(scope: str, key: str) -> UUID:
    return _id("idempotency", scope, key)


def users_by_email_uuid(user_email: str) -> UUID:
    # The email exactly as stored: the views have always matched emails exactly, so does this.
    return _id("users-by-email", user_email)


def users_by_email_backfill_uuid() -> UUID:
    return _id("users-by-email-backfill")
