"""The keys read model: every virtual key by its token, for authentication, /user/info and
the organization cascade. Raw keys never reach it: events carry only tokens."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from orgledger.domain.key import Key

from orgledger.projections.base import Projection, iso
from orgledger.projections.index_key import index_key, index_key_or_none
from orgledger.projections.store import Cursor, from_json, to_json


# What reads need, without the *_key columns.
KEY_COLUMNS = ("token, user_id, key_alias, models, organization_id, expires, revoked, created_by,"
               " created_at, updated_at")


class KeysView(Projection):
    name = "keys"
    table_names = ("keys",)
    # 2: tokens, user and organization ids keyed and indexed by index_key (*_key columns).
    layout = 2

    def ddl(self) -> list[str]:
        # Keyed by bounded index keys, each look-up comparing the full value too: see
        # projections/index_key.py.
        return [
            "CREATE TABLE IF NOT EXISTS {keys} (token TEXT NOT NULL, user_id TEXT,"
            " key_alias TEXT, models TEXT NOT NULL, organization_id TEXT, expires TEXT,"
            " revoked INTEGER NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, seq BIGINT NOT NULL, token_key TEXT NOT NULL,"
            " user_key TEXT, org_key TEXT, PRIMARY KEY (token_key))",
            "CREATE INDEX IF NOT EXISTS {keys}_user ON {keys} (user_key)",
            "CREATE INDEX IF NOT EXISTS {keys}_org ON {keys} (org_key)",
        ]

    # A dispatcher of its own: handlers registered on Projection.apply are shared by every
    # subclass, so another view's events would reach this one's tables.
    @singledispatchmethod
    def apply(self, event: Any, cur: Cursor, position: int) -> None:
        """Events other than a key's only move the position on."""

    @apply.register
    def _(self, e: Key.KeyIssued, cur: Cursor, position: int) -> None:
        at = iso(e.timestamp)
        cur.insert(
            f"INSERT INTO {self.t['keys']} VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (e.token, e.user_id, e.key_alias, to_json(e.models), e.organization_id,
             iso(e.expires) if e.expires else None, 0, e.actor.user_id, at, at, position,
             index_key(e.token), index_key_or_none(e.user_id), index_key_or_none(e.organization_id)),
        )

    @apply.register
    def _(self, e: Key.KeyRevoked, cur: Cursor, position: int) -> None:
        cur.execute(
            f"UPDATE {self.t['keys']} SET revoked=1, updated_at=? WHERE token_key=? AND token=?",
            (iso(e.timestamp), index_key(e.token), e.token),
        )

    # Queries.

    def key(self, cur: Cursor, token: str) -> dict[str, Any] | None:
        """The key's row, revoked or not."""
        row = cur.execute(f"SELECT {KEY_COLUMNS} FROM {self.t['keys']} WHERE token_key=? AND token=?",
                          (index_key(token), token)).one()
        return None if row is None else _key_shape(row)

    def keys_of_user(self, cur: Cursor, user_id: str) -> list[dict[str, Any]]:
        rows = cur.execute(
            f"SELECT {KEY_COLUMNS} FROM {self.t['keys']} WHERE user_key=? AND user_id=? AND revoked=0"
            " ORDER BY seq",
            (index_key(user_id), user_id),
        ).all()
        return [_key_shape(r) for r in rows]

    def tokens_of_org(self, cur: Cursor, organization_id: str) -> list[str]:
        rows = cur.execute(
            f"SELECT token FROM {self.t['keys']} WHERE org_key=? AND organization_id=? AND revoked=0"
            " ORDER BY seq",
            (index_key(organization_id), organization_id),
        ).all()
        return [r["token"] for r in rows]


def _key_shape(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": row["token"],
        "key_alias": row["key_alias"],
        "user_id": row["user_id"],
        "models": from_json(row["models"]),
        "organization_id": row["organization_id"],
        "expires": row["expires"],
        "revoked": bool(row["revoked"]),
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
