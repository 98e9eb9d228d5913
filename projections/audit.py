"""The audit log read model: one LiteLLM-shaped entry per event, in log order.

`before_value` needs the object's state before each event, so the view keeps the last state of
every object it has seen in a table of its own; a rebuild recomputes it from the log."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from .audit_entries import BUDGET, Change, describe
from .base import Projection, iso
from .store import Cursor, from_json, to_json

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

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS {audit_log} (seq BIGINT PRIMARY KEY, id TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, changed_by TEXT, changed_by_api_key TEXT, action TEXT NOT NULL,"
            " table_name TEXT NOT NULL, object_id TEXT NOT NULL, before_value TEXT, updated_values TEXT,"
            " request_id TEXT, event_type TEXT NOT NULL)",
            "CREATE UNIQUE INDEX IF NOT EXISTS {audit_log}_id ON {audit_log} (id)",
            "CREATE INDEX IF NOT EXISTS {audit_log}_object ON {audit_log} (object_id)",
            "CREATE INDEX IF NOT EXISTS {audit_log}_changed_by ON {audit_log} (changed_by)",
            "CREATE INDEX IF NOT EXISTS {audit_log}_updated_at ON {audit_log} (updated_at)",
            # Which organization's admins may read an entry; an entry can belong to several.
            "CREATE TABLE IF NOT EXISTS {audit_scopes} (organization_id TEXT NOT NULL,"
            " seq BIGINT NOT NULL, PRIMARY KEY (organization_id, seq))",
            "CREATE TABLE IF NOT EXISTS {audit_objects} (table_name TEXT NOT NULL,"
            " object_id TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (table_name, object_id))",
            "CREATE TABLE IF NOT EXISTS {audit_budget_orgs} (budget_id TEXT NOT NULL,"
            " organization_id TEXT NOT NULL, PRIMARY KEY (budget_id, organization_id))",
        ]

    # Events: every event is one entry, so this replaces the per-class dispatch.

    def apply(self, event: Any, cur: Cursor, position: int) -> None:  # type: ignore[override]
        change = describe(event)
        before = self._state(cur, change)
        after = self._after(before, change)
        self._save_state(cur, change, after)
        actor = getattr(event, "actor", None)
        cur.execute(
            f"INSERT INTO {self.t['audit_log']} (seq, {', '.join(ENTRY_COLUMNS)})"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (position, entry_id(event), iso(event.timestamp), getattr(actor, "user_id", None),
             getattr(actor, "api_key_hash", None), change.action, change.table_name, change.object_id,
             None if change.action == "created" else to_json(before), to_json(change.values),
             getattr(actor, "request_id", None), type(event).__name__),
        )
        for organization_id in self._scopes(cur, change):
            cur.execute(f"INSERT INTO {self.t['audit_scopes']} VALUES (?, ?)", (organization_id, position))
        if change.budget_id and change.organization_id and change.table_name != BUDGET:
            self._link_budget(cur, change.budget_id, change.organization_id)

    def _state(self, cur: Cursor, change: Change) -> dict[str, Any] | None:
        row = cur.execute(
            f"SELECT state FROM {self.t['audit_objects']} WHERE table_name=? AND object_id=?",
            (change.table_name, change.object_id),
        ).one()
        return None if row is None else from_json(row["state"])

    @staticmethod
    def _after(before: dict[str, Any] | None, change: Change) -> dict[str, Any] | None:
        if change.action == "deleted":
            return None
        if change.action == "created":
            return change.values
        return {**(before or {}), **(change.values or {})}

    def _save_state(self, cur: Cursor, change: Change, after: dict[str, Any] | None) -> None:
        key = (change.table_name, change.object_id)
        if after is None:
            cur.execute(f"DELETE FROM {self.t['audit_objects']} WHERE table_name=? AND object_id=?", key)
            return
        cur.execute(
            f"INSERT INTO {self.t['audit_objects']} VALUES (?, ?, ?) ON CONFLICT (table_name, object_id)"
            " DO UPDATE SET state = excluded.state",
            (*key, to_json(after)),
        )

    def _scopes(self, cur: Cursor, change: Change) -> list[str]:
        if change.table_name == BUDGET:
            rows = cur.execute(
                f"SELECT organization_id FROM {self.t['audit_budget_orgs']} WHERE budget_id=?",
                (change.object_id,),
            ).all()
            return [r["organization_id"] for r in rows]
        return [change.organization_id] if change.organization_id else []

    def _link_budget(self, cur: Cursor, budget_id: str, organization_id: str) -> None:
        """From now on the budget's entries belong to the organization, and so do its earlier
        ones (a budget is created just before the organization or membership that uses it)."""
        linked = cur.execute(
            f"SELECT 1 AS x FROM {self.t['audit_budget_orgs']} WHERE budget_id=? AND organization_id=?",
            (budget_id, organization_id),
        ).one()
        if linked:
            return
        cur.execute(f"INSERT INTO {self.t['audit_budget_orgs']} VALUES (?, ?)", (budget_id, organization_id))
        cur.execute(
            f"INSERT INTO {self.t['audit_scopes']} (organization_id, seq)"
            f" SELECT ?, seq FROM {self.t['audit_log']} WHERE table_name=? AND object_id=?",
            (organization_id, BUDGET, budget_id),
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
        for column in ("object_id", "table_name", "action", "changed_by"):
            value = getattr(f, column)
            if value is not None:
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
                         f" WHERE organization_id IN ({marks}))")
            params.extend(f.organization_ids)
        return (f"WHERE {' AND '.join(where)}" if where else ""), params


def entry_id(event: Any) -> str:
    """The same id for the same event in every rebuild and every copy of the store."""
    return str(uuid5(NAMESPACE_URL, f"orgledger:event/{event.originator_id}/{event.originator_version}"))


def _entry_shape(row: dict[str, Any]) -> dict[str, Any]:
    shape = {c: row[c] for c in ENTRY_COLUMNS}
    shape["before_value"] = from_json(row["before_value"])
    shape["updated_values"] = from_json(row["updated_values"])
    return shape
