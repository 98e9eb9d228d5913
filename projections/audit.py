"""The audit log read model: one LiteLLM-shaped entry per event, in log order.

`before_value` needs the object's state before each event, so the view keeps the last state of
every object it has seen in a table of its own; a rebuild recomputes it from the log."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL

from orgledger.projections.audit_entries import BUDGET, Change, describe, is_bookkeeping
from orgledger.projections.base import Projection, iso
from orgledger.projections.index_key import index_key, index_key_or_none
from orgledger.projections.memory import Remembered
from orgledger.projections.store import Cursor, from_json, to_json

# How many object states and budget links a rebuild keeps in memory between batches.
MEMORY = 100_000

ENTRY_COLUMNS = (
    "id", "updated_at", "changed_by", "changed_by_api_key", "action", "table_name", "object_id",
    "before_value", "updated_values", "request_id", "event_type",
)


@dataclass(frozen=True)
class AuditFilter:
    """Conditions on entries, combined with AND; dates are ISO-8601 UTC text, both inclusive."""

    object_id: str | None = None
    table_name: str | None = None
    action: str | None = None
    changed_by: str | None = None
    start: str | None = None
    end: str | None = None
    # Only entries of these organizations (an org_admin's view); None means every entry.
    organization_ids: tuple[str, ...] | None = None


class AuditView(Projection):
    name = "audit"
    table_names = ("audit_log", "audit_scopes", "audit_objects", "audit_budget_orgs")
    handler_indexes = ("{audit_log}_object",)  # _link_budget finds a budget's earlier entries
    # 2: object ids, actors and organization ids keyed and indexed by index_key (*_key columns).
    layout = 2

    def ddl(self) -> list[str]:
        # Ids and actors are keyed by a bounded index_key, each look-up comparing the full value
        # too (projections/index_key.py); entry ids (uuid5), times and table names are bounded.
        return [
            "CREATE TABLE IF NOT EXISTS {audit_log} (seq {int_key} PRIMARY KEY, id TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, changed_by TEXT, changed_by_api_key TEXT, action TEXT NOT NULL,"
            " table_name TEXT NOT NULL, object_id TEXT NOT NULL, before_value TEXT, updated_values TEXT,"
            " request_id TEXT, event_type TEXT NOT NULL, changed_by_key TEXT,"
            " object_key TEXT NOT NULL)",
            "CREATE UNIQUE INDEX IF NOT EXISTS {audit_log}_id ON {audit_log} (id)",
            "CREATE INDEX IF NOT EXISTS {audit_log}_object ON {audit_log} (object_key)",
            "CREATE INDEX IF NOT EXISTS {audit_log}_changed_by ON {audit_log} (changed_by_key)",
            "CREATE INDEX IF NOT EXISTS {audit_log}_updated_at ON {audit_log} (updated_at)",
            # Which organization's admins may read an entry; an entry can belong to several.
            "CREATE TABLE IF NOT EXISTS {audit_scopes} (organization_id TEXT NOT NULL,"
            " seq BIGINT NOT NULL, org_key TEXT NOT NULL, PRIMARY KEY (org_key, seq)){without_rowid}",
            "CREATE TABLE IF NOT EXISTS {audit_objects} (table_name TEXT NOT NULL,"
            " object_id TEXT NOT NULL, state TEXT NOT NULL, object_key TEXT NOT NULL,"
            " PRIMARY KEY (table_name, object_key))",
            "CREATE TABLE IF NOT EXISTS {audit_budget_orgs} (budget_id TEXT NOT NULL,"
            " organization_id TEXT NOT NULL, budget_key TEXT NOT NULL, org_key TEXT NOT NULL,"
            " PRIMARY KEY (budget_key, org_key)){without_rowid}",
        ]

    # Events: every event is one entry, so this replaces the per-class dispatch.

    def __init__(self, prefix: str = "") -> None:
        super().__init__(prefix)
        t = self.t
        self._insert_entry = (f"INSERT INTO {t['audit_log']} (seq, {', '.join(ENTRY_COLUMNS)},"
                              " changed_by_key, object_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        self._insert_scope = f"INSERT INTO {t['audit_scopes']} VALUES (?, ?, ?)"
        self._save_state = (f"INSERT INTO {t['audit_objects']} VALUES (?, ?, ?, ?)"
                            " ON CONFLICT (table_name, object_key) DO UPDATE SET state = excluded.state")
        # What this view wrote: each object's state as JSON (None: no row) and each budget's
        # organizations, read back from the tables only when not remembered. A live view
        # forgets at every batch (another process may write its tables); a rebuild's keeps up
        # to MEMORY of each between batches.
        self._states = Remembered[tuple[str, str], "str | None"](None)
        self._links = Remembered[str, "tuple[str, ...]"](())
        # The seq of every entry of a budget, for budgets whose entries all went through this
        # sole writer: linking one to an organization then needs no look-up in the log.
        self._budget_seqs: dict[str, list[int]] = {}

    def own_tables(self) -> None:
        super().own_tables()
        self._states.start_complete()
        self._links.start_complete()

    def begin_batch(self) -> None:
        if not self.sole_writer:
            self._states.forget()
            self._links.forget()
            return
        self._states.trim(MEMORY)
        self._links.trim(MEMORY)
        if len(self._budget_seqs) > MEMORY:
            self._budget_seqs.clear()

    def handler(self, event_type: type) -> Callable[[Any, Cursor, int], None]:
        if is_bookkeeping(event_type):
            return _no_entry
        return super().handler(event_type)

    def apply(self, event: Any, cur: Cursor, position: int) -> None:  # type: ignore[override]
        change = describe(event)
        key = (change.table_name, change.object_id)
        values = to_json(change.values)
        if change.action == "created":
            before = None  # a created entry shows no before_value, whatever was there
            after = values
        else:
            before = self._state(cur, key)
            after = None if change.action == "deleted" else to_json(
                {**(from_json(before) or {}), **(change.values or {})})
        object_key = index_key(change.object_id)
        if after is None:
            cur.execute(f"DELETE FROM {self.t['audit_objects']} WHERE table_name=? AND object_key=?"
                        " AND object_id=?", (change.table_name, object_key, change.object_id))
        else:
            cur.insert(self._save_state, (change.table_name, change.object_id, after, object_key))
        self._states.put(key, after)
        actor = getattr(event, "actor", None)
        changed_by = getattr(actor, "user_id", None)
        cur.insert(self._insert_entry, (
            position, entry_id(event), iso(event.timestamp), changed_by,
            getattr(actor, "api_key_hash", None), change.action, change.table_name, change.object_id,
            before, values, getattr(actor, "request_id", None), type(event).__name__,
            index_key_or_none(changed_by), object_key,
        ))
        if change.table_name == BUDGET:
            for organization_id in self._budget_orgs(cur, change.object_id):
                cur.insert(self._insert_scope, (organization_id, position, index_key(organization_id)))
            self._remember_budget_entry(change, position)
        elif change.organization_id:
            cur.insert(self._insert_scope, (change.organization_id, position, index_key(change.organization_id)))
            if change.budget_id:
                self._link_budget(cur, change.budget_id, change.organization_id)

    def _state(self, cur: Cursor, key: tuple[str, str]) -> str | None:
        def read() -> str | None:
            row = cur.execute(
                f"SELECT state FROM {self.t['audit_objects']} WHERE table_name=? AND object_key=?"
                " AND object_id=?", (key[0], index_key(key[1]), key[1]),
            ).one()
            return None if row is None else row["state"]

        return self._states.get(key, read)

    def _budget_orgs(self, cur: Cursor, budget_id: str) -> tuple[str, ...]:
        def read() -> tuple[str, ...]:
            rows = cur.execute(
                f"SELECT organization_id FROM {self.t['audit_budget_orgs']} WHERE budget_key=?"
                " AND budget_id=?", (index_key(budget_id), budget_id),
            ).all()
            return tuple(r["organization_id"] for r in rows)

        return self._links.get(budget_id, read)

    def _remember_budget_entry(self, change: Change, position: int) -> None:
        if not self.sole_writer:
            return
        if change.action == "created":  # a budget's first entry (one aggregate per budget id)
            self._budget_seqs[change.object_id] = [position]
        elif change.object_id in self._budget_seqs:
            self._budget_seqs[change.object_id].append(position)

    def _link_budget(self, cur: Cursor, budget_id: str, organization_id: str) -> None:
        """From now on the budget's entries belong to the organization, and so do its earlier
        ones (a budget is created just before the organization or membership that uses it)."""
        linked = self._budget_orgs(cur, budget_id)
        if organization_id in linked:
            return
        org_key = index_key(organization_id)
        cur.insert(f"INSERT INTO {self.t['audit_budget_orgs']} VALUES (?, ?, ?, ?)",
                   (budget_id, organization_id, index_key(budget_id), org_key))
        self._links.put(budget_id, (*linked, organization_id))
        seqs = self._budget_seqs.get(budget_id)
        if seqs is not None:
            for seq in seqs:
                cur.insert(self._insert_scope, (organization_id, seq, org_key))
            return
        cur.execute(
            f"INSERT INTO {self.t['audit_scopes']} (organization_id, seq, org_key)"
            f" SELECT ?, seq, ? FROM {self.t['audit_log']}"
            " WHERE object_key=? AND table_name=? AND object_id=?",
            (organization_id, org_key, index_key(budget_id), BUDGET, budget_id),
        )

    # Queries.

    def page(self, cur: Cursor, where: AuditFilter, page: int, page_size: int) -> dict[str, Any]:
        """One page of entries in log order, with the total that matched (one snapshot)."""
        clause, params = self._where(where)
        total = cur.execute(f"SELECT COUNT(*) AS n FROM {self.t['audit_log']} a {clause}", params).one()
        count = total["n"] if total else 0
        rows = cur.execute(
            f"SELECT a.* FROM {self.t['audit_log']} a {clause} ORDER BY a.seq LIMIT ? OFFSET ?",
            (*params, page_size, (page - 1) * page_size),
        ).all()
        return {
            "audit_logs": [_entry_shape(r) for r in rows],
            "total": count,
            "page": page,
            "page_size": page_size,
            "total_pages": math.ceil(count / page_size),
        }

    def entry(self, cur: Cursor, id_: str, organization_ids: tuple[str, ...] | None = None
              ) -> dict[str, Any] | None:
        clause, params = self._where(AuditFilter(organization_ids=organization_ids))
        clause = f"{clause} AND a.id=?" if clause else "WHERE a.id=?"
        row = cur.execute(f"SELECT a.* FROM {self.t['audit_log']} a {clause}", (*params, id_)).one()
        return None if row is None else _entry_shape(row)

    def _where(self, f: AuditFilter) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        for column, key in (("object_id", "object_key"), ("table_name", None), ("action", None),
                            ("changed_by", "changed_by_key")):
            value = getattr(f, column)
            if value is None:
                continue
            if key is not None:  # through its index
                where.append(f"a.{key}=?")
                params.append(index_key(value))
            where.append(f"a.{column}=?")
            params.append(value)
        if f.start is not None:
            where.append("a.updated_at>=?")
            params.append(f.start)
        if f.end is not None:
            where.append("a.updated_at<=?")
            params.append(f.end)
        if f.organization_ids is not None:
            marks = ",".join("?" * len(f.organization_ids)) or "NULL"
            where.append(f"a.seq IN (SELECT seq FROM {self.t['audit_scopes']}"
                         f" WHERE org_key IN ({marks}) AND organization_id IN ({marks}))")
            params.extend(index_key(o) for o in f.organization_ids)
            params.extend(f.organization_ids)
        return (f"WHERE {' AND '.join(where)}" if where else ""), params


def _no_entry(event: Any, cur: Cursor, position: int) -> None:
    """Index bookkeeping is no audit entry; the position moves on all the same."""


def entry_id(event: Any) -> str:
    """The same id for the same event in every rebuild and every copy of the store."""
    # uuid5(NAMESPACE_URL, f"orgledger:event/{id}/{version}") without building UUID objects,
    # which cost a rebuild more than the hash itself.
    digest = _ENTRY_ID_PREFIX.copy()
    digest.update(f"{event.originator_id}/{event.originator_version}".encode())
    b = bytearray(digest.digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x50  # version 5
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_ENTRY_ID_PREFIX = hashlib.sha1(NAMESPACE_URL.bytes + b"orgledger:event/", usedforsecurity=False)


def _entry_shape(row: dict[str, Any]) -> dict[str, Any]:
    shape = {c: row[c] for c in ENTRY_COLUMNS}
    shape["before_value"] = from_json(row["before_value"])
    shape["updated_values"] = from_json(row["updated_values"])
    return shape
