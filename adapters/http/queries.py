"""The read side as requests ask it: each question one view transaction, and the answers that
are asked again and again kept in the read cache while the views stay as they are."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from orgledger.domain.errors import OrganizationNotFoundError
from orgledger.projections.audit import AuditFilter, AuditView
from orgledger.projections.keys import KeysView
from orgledger.projections.organizations.view import OrganizationsView
from orgledger.projections.store import Cursor, ViewStore

from orgledger.adapters.http.read_cache import MAX_ENTRY_BYTES, ReadCache

Row = dict[str, Any]
# A key's row and its user's (none: a key that belongs to nobody, or to an unknown user).
KeyHolder = tuple[Row, list[Row]]


def without_permission(org: Row) -> Row:
    # Only GET /organization/info includes the permission object; the id is always there.
    return {**org, "object_permission": None}


class Queries:
    def __init__(self, store: ViewStore, organizations: OrganizationsView, keys: KeysView, audit: AuditView,
                 cache: ReadCache) -> None:
        self.store = store
        self.organizations = organizations
        self.keys = keys
        self.audit = audit
        self.cache = cache

    @contextmanager
    def _views(self) -> Iterator[Cursor]:
        with self.store.transaction(commit=False) as cur:
            yield cur

    # Organizations.

    def org_info(self, organization_id: str) -> bytes | None:
        """GET /organization/info's encoded answer (None: no such organization); the same for
        every caller allowed to ask."""
        def read() -> bytes | None:
            with self._views() as cur:
                org = self.organizations.org(cur, organization_id)
            return None if org is None else msgspec.json.encode(org)

        return self.cache.fetch(("info", organization_id), read)

    def org_list(self, member: str | None, org_id: str | None,
                 org_alias: str | None) -> bytes | tuple[bytes, ...]:
        """GET /organization/list's encoded answer: one body if short (and cached), else chunks.
        `member` None lists every organization, else only those that user belongs to."""
        def read() -> bytes | tuple[bytes, ...]:
            # LiteLLM's list has no pages, so a long one is read, shaped and encoded a page at a
            # time: what it holds at once is about its encoded size, not its objects' (some 10x).
            chunks = [b"["]
            with self._views() as cur:
                for page in self.organizations.org_pages(cur, member=member, org_id=org_id, org_alias=org_alias):
                    if len(chunks) > 1:
                        chunks.append(b",")
                    chunks.append(msgspec.json.encode([without_permission(o) for o in page])[1:-1])
            chunks.append(b"]")
            return b"".join(chunks) if sum(map(len, chunks)) <= MAX_ENTRY_BYTES else tuple(chunks)

        # Who may see what is part of the key.
        return self.cache.fetch(("list", member, org_id, org_alias), read)

    def raw_orgs(self, organization_ids: list[str]) -> list[Row]:
        with self._views() as cur:
            return self.organizations.raw_orgs(cur, organization_ids)

    def org(self, organization_id: str) -> Row | None:
        with self._views() as cur:
            return self.organizations.org(cur, organization_id)

    def members(self, organization_id: str, *, shown: bool) -> list[Row]:
        """The organization's memberships as the views show them. `shown`: the views have caught
        up with a change to it, so if it is not there a later delete removed it, and the answer
        is the 404 a read would give; otherwise it may just not be shown yet (no members)."""
        org = self.org(organization_id)
        if org is not None:
            return org["members"]  # type: ignore[no-any-return]
        if shown:
            raise OrganizationNotFoundError(f"Organization not found for organization_id={organization_id}")
        return []

    # Users and keys.

    def user_with_keys(self, user_id: str) -> tuple[Row, list[Row]] | None:
        """A user's row and their unrevoked keys; None if there is no such user."""
        with self._views() as cur:
            users = self.organizations.users(cur, [user_id])
            if not users:
                return None
            return users[0], self.keys.keys_of_user(cur, user_id)

    def key_holder(self, token: str) -> KeyHolder | None:
        """An unrevoked key's row and its user's, cached until the views change (a revocation
        counts from its commit on)."""
        def read() -> KeyHolder | None:
            with self._views() as cur:
                row = self.keys.key(cur, token)
                if row is None or row["revoked"]:
                    return None
                return row, self.organizations.users(cur, [row["user_id"]]) if row["user_id"] else []

        return self.cache.fetch(("key", token), read)

    def key_owners(self, tokens: list[str]) -> tuple[str | None, ...]:
        """The users the keys with these tokens belong to (None: nobody); unknown keys left out."""
        with self._views() as cur:
            rows = [self.keys.key(cur, token) for token in tokens]
        return tuple(r["user_id"] for r in rows if r is not None)

    def roles_of(self, user_id: str | None) -> dict[str, str]:
        """The user's role in each organization they belong to, cached until the views change."""
        if not user_id:
            return {}

        def read() -> dict[str, str]:
            with self._views() as cur:
                return self.organizations.roles_of(cur, user_id)

        return self.cache.fetch(("roles", user_id), read)

    # The audit log.

    def audit_page(self, where: AuditFilter, page: int, page_size: int) -> Row:
        with self._views() as cur:
            return self.audit.page(cur, where, page, page_size)

    def audit_entry(self, entry_id: str, organization_ids: tuple[str, ...] | None) -> Row | None:
        """The entry, if it concerns one of these organizations (None: any)."""
        with self._views() as cur:
            return self.audit.entry(cur, entry_id, organization_ids)
