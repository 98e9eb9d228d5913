"""The organizations read model: organizations, their budgets, memberships and users.

It answers /organization/info, /organization/list and the deprecated POST info (commands
never read it: they find what they need in the event store)."""

from __future__ import annotations

from typing import Any

from orgledger.domain.budget import Budget
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.user import User

from orgledger.projections.base import Projection, iso
from orgledger.projections.index_key import index_key, index_key_or_none
from orgledger.projections.organizations.shapes import BUDGET_FIELDS
from orgledger.projections.organizations.queries import OrganizationQueries
from orgledger.projections.store import Cursor, to_json

class OrganizationsView(OrganizationQueries, Projection):
    name = "organizations"
    table_names = ("orgs", "budgets", "memberships", "users")
    # 2: ids and emails keyed and indexed by index_key (*_key columns), not by their text.
    layout = 2

    def ddl(self) -> list[str]:
        # Every id and email is keyed by a bounded index_key (projections/index_key.py): their
        # length is unbounded. Each look-up compares the key and the full value.
        return [
            "CREATE TABLE IF NOT EXISTS {orgs} (organization_id TEXT NOT NULL,"
            " organization_alias TEXT NOT NULL, budget_id TEXT NOT NULL, spend DOUBLE PRECISION NOT NULL,"
            " metadata TEXT NOT NULL, models TEXT NOT NULL, object_permission TEXT,"
            " created_by TEXT NOT NULL, updated_by TEXT NOT NULL, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, seq BIGINT NOT NULL, alias_folded TEXT NOT NULL,"
            " org_key TEXT NOT NULL, budget_key TEXT NOT NULL, PRIMARY KEY (org_key))",
            "CREATE INDEX IF NOT EXISTS {orgs}_seq ON {orgs} (seq)",
            "CREATE TABLE IF NOT EXISTS {budgets} (budget_id TEXT NOT NULL,"
            " soft_budget DOUBLE PRECISION, max_budget DOUBLE PRECISION, max_parallel_requests BIGINT,"
            " tpm_limit BIGINT, rpm_limit BIGINT, model_max_budget TEXT, budget_duration TEXT,"
            " created_by TEXT NOT NULL, updated_by TEXT NOT NULL, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, budget_key TEXT NOT NULL, PRIMARY KEY (budget_key))",
            "CREATE TABLE IF NOT EXISTS {memberships} (organization_id TEXT NOT NULL,"
            " user_id TEXT NOT NULL, user_role TEXT NOT NULL, spend DOUBLE PRECISION NOT NULL,"
            " budget_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, seq BIGINT NOT NULL,"
            " org_key TEXT NOT NULL, user_key TEXT NOT NULL, PRIMARY KEY (org_key, user_key))",
            "CREATE INDEX IF NOT EXISTS {memberships}_user ON {memberships} (user_key)",
            # An organization's members in join order without a sort (info, list, member_ids).
            "CREATE INDEX IF NOT EXISTS {memberships}_org_seq ON {memberships} (org_key, seq)",
            "CREATE TABLE IF NOT EXISTS {users} (user_id TEXT NOT NULL, user_email TEXT,"
            " user_role TEXT NOT NULL, models TEXT NOT NULL, max_budget DOUBLE PRECISION,"
            " metadata TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
            " user_key TEXT NOT NULL, email_key TEXT, PRIMARY KEY (user_key))",
            "CREATE INDEX IF NOT EXISTS {users}_email ON {users} (email_key)",
        ]

    # The alias filter's index (SQLite only; PostgreSQL scans). A substring search cannot use a
    # B-tree, so FTS5's trigram tokenizer indexes the folded aliases, keyed by the row's seq.
    # Triggers keep it in step with whatever writes the orgs table, so no event handler knows it.
    ALIAS_INDEX_DDL = (
        "CREATE VIRTUAL TABLE {alias} USING fts5(alias_folded,"
        " tokenize='trigram case_sensitive 1', detail=none)",
        "INSERT INTO {alias} (rowid, alias_folded) SELECT seq, alias_folded FROM {orgs}",
    )
    ALIAS_TRIGGERS = (
        "CREATE TRIGGER IF NOT EXISTS {alias}_insert AFTER INSERT ON {orgs} BEGIN"
        " INSERT INTO {alias} (rowid, alias_folded) VALUES (new.seq, new.alias_folded); END",
        "CREATE TRIGGER IF NOT EXISTS {alias}_delete AFTER DELETE ON {orgs} BEGIN"
        " DELETE FROM {alias} WHERE rowid = old.seq; END",
        "CREATE TRIGGER IF NOT EXISTS {alias}_update AFTER UPDATE OF alias_folded, seq ON {orgs} BEGIN"
        " DELETE FROM {alias} WHERE rowid = old.seq;"
        " INSERT INTO {alias} (rowid, alias_folded) VALUES (new.seq, new.alias_folded); END",
    )

    @property
    def alias_index(self) -> str:
        return f"{self.t['orgs']}_alias"

    def create_tables(self, cur: Cursor, *, bulk_load: bool = False) -> None:
        super().create_tables(cur, bulk_load=bulk_load)
        if cur.postgres:
            return
        names = {"alias": self.alias_index, "orgs": self.t["orgs"]}
        exists = cur.execute("SELECT 1 FROM sqlite_master WHERE name=?", (self.alias_index,)).one()
        if not exists:  # new, or views written before the index: filled from the rows there
            for statement in self.ALIAS_INDEX_DDL:
                cur.execute(statement.format(**names))
        for statement in self.ALIAS_TRIGGERS:
            cur.execute(statement.format(**names))

    def drop_tables(self, cur: Cursor) -> None:
        super().drop_tables(cur)  # the orgs table's triggers go with it
        cur.execute(f"DROP TABLE IF EXISTS {self.alias_index}")

    def switched_over(self, cur: Cursor, new: Projection) -> None:
        if cur.postgres:
            return
        # The renamed orgs table brought the new set's triggers: create_tables adds the live ones.
        assert isinstance(new, OrganizationsView)
        for trigger in ("insert", "delete", "update"):
            cur.execute(f"DROP TRIGGER IF EXISTS {new.alias_index}_{trigger}")
        cur.execute(f"DROP TABLE IF EXISTS {self.alias_index}")
        cur.execute(f"ALTER TABLE {new.alias_index} RENAME TO {self.alias_index}")

    # Events.

    @Projection.apply.register
    def _(self, e: Organization.OrgCreated, cur: Cursor, position: int) -> None:
        at = iso(e.timestamp)
        permission = e.object_permission.as_dict() if e.object_permission else None
        cur.insert(
            f"INSERT INTO {self.t['orgs']} VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (e.organization_id, e.organization_alias, e.budget_id, 0.0, to_json(e.metadata),
             to_json(e.models), to_json(permission), e.actor.user_id, e.actor.user_id, at, at,
             position, e.organization_alias.casefold(), index_key(e.organization_id), index_key(e.budget_id)),
        )

    @Projection.apply.register
    def _(self, e: Organization.OrgUpdated, cur: Cursor, position: int) -> None:
        changes: dict[str, Any] = {"updated_by": e.actor.user_id, "updated_at": iso(e.timestamp)}
        if e.organization_alias is not None:
            changes["organization_alias"] = e.organization_alias
            changes["alias_folded"] = e.organization_alias.casefold()
        if e.models is not None:
            changes["models"] = to_json(e.models)
        if e.metadata is not None:
            changes["metadata"] = to_json(e.metadata)
        if e.spend is not None:
            changes["spend"] = e.spend
        if e.object_permission is not None:
            changes["object_permission"] = to_json(e.object_permission.as_dict())
        self._update(cur, "orgs", changes, *_org_is(e.organization_id))

    @Projection.apply.register
    def _(self, e: Organization.OrgDeleted, cur: Cursor, position: int) -> None:
        where, params = _org_is(e.organization_id)
        cur.execute(f"DELETE FROM {self.t['orgs']} WHERE {where}", params)

    @Projection.apply.register
    def _(self, e: Budget.BudgetCreated, cur: Cursor, position: int) -> None:
        at = iso(e.timestamp)
        limits = e.limits.as_dict()
        limits["model_max_budget"] = to_json(limits["model_max_budget"])
        cur.insert(
            f"INSERT INTO {self.t['budgets']} VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (e.budget_id, *(limits[f] for f in BUDGET_FIELDS), e.actor.user_id, e.actor.user_id,
             at, at, index_key(e.budget_id)),
        )

    @Projection.apply.register
    def _(self, e: Budget.BudgetUpdated, cur: Cursor, position: int) -> None:
        changes = {k: v for k, v in e.changes.as_dict().items() if v is not None}
        if "model_max_budget" in changes:
            changes["model_max_budget"] = to_json(changes["model_max_budget"])
        changes.update(updated_by=e.actor.user_id, updated_at=iso(e.timestamp))
        self._update(cur, "budgets", changes, *_budget_is(e.budget_id))

    @Projection.apply.register
    def _(self, e: Membership.MemberAdded, cur: Cursor, position: int) -> None:
        self._insert_membership(cur, e.organization_id, e.user_id, e.role, e, position)

    @Projection.apply.register
    def _(self, e: Membership.MemberRejoined, cur: Cursor, position: int) -> None:
        self._insert_membership(cur, e.organization_id, e.user_id, e.role, e, position)

    @Projection.apply.register
    def _(self, e: Membership.RoleChanged, cur: Cursor, position: int) -> None:
        changes = {"user_role": e.role, "updated_at": iso(e.timestamp)}
        self._update(cur, "memberships", changes, *_membership_is(e.organization_id, e.user_id))

    @Projection.apply.register
    def _(self, e: Membership.MemberBudgetChanged, cur: Cursor, position: int) -> None:
        changes = {"budget_id": e.budget_id, "updated_at": iso(e.timestamp)}
        self._update(cur, "memberships", changes, *_membership_is(e.organization_id, e.user_id))

    @Projection.apply.register
    def _(self, e: Membership.MemberRemoved, cur: Cursor, position: int) -> None:
        where, params = _membership_is(e.organization_id, e.user_id)
        cur.execute(f"DELETE FROM {self.t['memberships']} WHERE {where}", params)

    @Projection.apply.register
    def _(self, e: User.UserCreated, cur: Cursor, position: int) -> None:
        at = iso(e.timestamp)
        cur.insert(
            f"INSERT INTO {self.t['users']} VALUES (?,?,?,?,?,?,?,?,?,?)",
            (e.user_id, e.user_email, e.user_role, to_json(e.models), e.max_budget,
             to_json(e.metadata), at, at, index_key(e.user_id), index_key_or_none(e.user_email)),
        )

    def _insert_membership(self, cur: Cursor, org_id: str, user_id: str, role: str, e: Any,
                           position: int) -> None:
        at = iso(e.timestamp)
        cur.insert(
            f"INSERT INTO {self.t['memberships']} VALUES (?,?,?,?,?,?,?,?,?,?)",
            (org_id, user_id, role, 0.0, None, at, at, position, index_key(org_id), index_key(user_id)),
        )

    def _update(self, cur: Cursor, table: str, changes: dict[str, Any], where: str,
                params: tuple[Any, ...]) -> None:
        sets = ", ".join(f"{k}=?" for k in changes)
        cur.execute(f"UPDATE {self.t[table]} SET {sets} WHERE {where}", (*changes.values(), *params))


def _org_is(organization_id: str) -> tuple[str, tuple[Any, ...]]:
    return "org_key=? AND organization_id=?", (index_key(organization_id), organization_id)


def _budget_is(budget_id: str) -> tuple[str, tuple[Any, ...]]:
    return "budget_key=? AND budget_id=?", (index_key(budget_id), budget_id)


def _membership_is(organization_id: str, user_id: str) -> tuple[str, tuple[Any, ...]]:
    return ("org_key=? AND user_key=? AND organization_id=? AND user_id=?",
            (index_key(organization_id), index_key(user_id), organization_id, user_id))
