"""The organizations view's queries: what /organization/info, /organization/list and the
member and user answers read. Ids and emails are found by their bounded index_key and then
compared in full (view.py keys its tables so)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from orgledger.projections.index_key import index_key
from orgledger.projections.organizations.shapes import (
    BUDGET_FIELDS,
    budget_shape,
    membership_shape,
    org_shape,
    raw_org_shape,
    user_shape,
)
from orgledger.projections.store import Cursor

MEMBERS_CHUNK = 500
# Organizations read, shaped and encoded at a time by a long /organization/list.
ORGS_PAGE = 500
# The columns reads need, without the *_key columns (fewer values to turn into dicts).
ORG_COLUMNS = (
    "organization_id", "organization_alias", "budget_id", "spend", "metadata", "models",
    "object_permission", "created_by", "updated_by", "created_at", "updated_at", "seq",
)
MEMBERSHIP_COLUMNS = (
    "organization_id", "user_id", "user_role", "spend", "budget_id", "created_at", "updated_at",
)


class OrganizationQueries:
    """Mixed into OrganizationsView: `t` names its tables, `alias_index` its alias search."""

    t: dict[str, str]
    alias_index: str

    def org(self, cur: Cursor, organization_id: str) -> dict[str, Any] | None:
        rows = self.orgs(cur, org_id=organization_id)
        return rows[0] if rows else None

    def orgs(self, cur: Cursor, *, member: str | None = None, org_id: str | None = None,
             org_alias: str | None = None) -> list[dict[str, Any]]:
        """Organizations with budget and members, oldest first, filtered with AND."""
        where, params = self._filters(cur, member, org_id, org_alias)
        orgs = self._org_rows(cur, where, params, filtered=bool(where))
        return self._with_members(cur, orgs, [o["organization_id"] for o in orgs] if where else None)

    def org_pages(self, cur: Cursor, *, member: str | None = None, org_id: str | None = None,
                  org_alias: str | None = None, size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """orgs(), `size` organizations at a time, so that a long list is never all in memory at
        once (pages follow each other by seq, each read when the one before was used)."""
        where, params = self._filters(cur, member, org_id, org_alias)
        size = size or ORGS_PAGE
        after = -1
        while True:
            orgs = self._org_rows(cur, [*where, "o.seq > ?"], [*params, after], filtered=bool(where), limit=size)
            if orgs:
                # Unfiltered, a page is a range of seq: its members are read by that range.
                ids = [o["organization_id"] for o in orgs] if where else None
                yield self._with_members(cur, orgs, ids, (after, orgs[-1]["seq"]))
            if len(orgs) < size:
                return
            after = orgs[-1]["seq"]

    def _filters(self, cur: Cursor, member: str | None, org_id: str | None,
                 org_alias: str | None) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if member is not None:
            where.append(f"o.org_key IN (SELECT org_key FROM {self.t['memberships']}"
                         " WHERE user_key=? AND user_id=?)")
            params += [index_key(member), member]
        if org_id is not None:
            where.append("o.org_key=? AND o.organization_id=?")
            params += [index_key(org_id), org_id]
        if org_alias is not None:
            # A substring of the alias folded in Python when stored (SQLite's LOWER and LIKE fold
            # ASCII letters only).
            folded = org_alias.casefold()
            if not cur.postgres and _trigram_searchable(folded):
                where.append(f"o.seq IN (SELECT rowid FROM {self.alias_index} WHERE alias_folded GLOB ?)")
                params.append(f"*{folded}*")
            else:
                where.append(f"{'strpos' if cur.postgres else 'instr'}(o.alias_folded, ?) > 0")
                params.append(folded)
        return where, params

    def _org_rows(self, cur: Cursor, where: list[str], params: list[Any], *, filtered: bool,
                  limit: int | None = None) -> list[dict[str, Any]]:
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        # Filtered: the matches sorted (`+` keeps SQLite from walking every row in seq order
        # through the index to test each); unfiltered: every row in index order, no sort.
        order = "+o.seq" if filtered else "o.seq"
        return cur.execute(
            f"SELECT {', '.join('o.' + c for c in ORG_COLUMNS)}, {', '.join('b.' + f for f in BUDGET_FIELDS)}"
            f" FROM {self.t['orgs']} o"
            f" JOIN {self.t['budgets']} b ON b.budget_key = o.budget_key AND b.budget_id = o.budget_id"
            f" {clause} ORDER BY {order}" + (f" LIMIT {int(limit)}" if limit is not None else ""),
            params,
        ).all()

    def _with_members(self, cur: Cursor, orgs: list[dict[str, Any]], organization_ids: list[str] | None,
                      seqs: tuple[int, int] | None = None) -> list[dict[str, Any]]:
        members: dict[str, list[dict[str, Any]]] = {}
        for row in self._members(cur, organization_ids, seqs):
            members.setdefault(row["organization_id"], []).append(membership_shape(row))
        return [org_shape(o, members.get(o["organization_id"], [])) for o in orgs]

    def _members(self, cur: Cursor, organization_ids: list[str] | None,
                 seqs: tuple[int, int] | None = None) -> list[dict[str, Any]]:
        """Memberships of these organizations (None: of every organization, or of those whose
        seq is in the range (after, last]), each organization's in join order. The caller groups
        the rows by their full organization_id, which makes a match by org_key exact."""
        if organization_ids is None:
            within = "" if seqs is None else " WHERE o.seq > ? AND o.seq <= ?"
            return cur.execute(
                f"SELECT {', '.join('m.' + c for c in MEMBERSHIP_COLUMNS)} FROM {self.t['memberships']} m"
                f" JOIN {self.t['orgs']} o ON o.org_key = m.org_key AND o.organization_id = m.organization_id"
                f"{within} ORDER BY m.seq", seqs or (),
            ).all()
        rows = []
        # Through the (org_key, seq) index, in chunks below the databases' parameter limits.
        for start in range(0, len(organization_ids), MEMBERS_CHUNK):
            chunk = organization_ids[start:start + MEMBERS_CHUNK]
            rows += cur.execute(
                f"SELECT {', '.join(MEMBERSHIP_COLUMNS)} FROM {self.t['memberships']} WHERE org_key IN"
                f" ({', '.join('?' * len(chunk))}) ORDER BY org_key, seq",
                [index_key(i) for i in chunk],
            ).all()
        return rows

    def raw_orgs(self, cur: Cursor, ids: list[str]) -> list[dict[str, Any]]:
        """The deprecated POST /organization/info shape: database rows with the budget row."""
        result = []
        for organization_id in ids:
            row = self._one(cur, "orgs", ("org_key", "organization_id"), organization_id)
            if row is not None:
                budget = self._one(cur, "budgets", ("budget_key", "budget_id"), row["budget_id"])
                result.append(raw_org_shape(row, budget))
        return result

    def membership(self, cur: Cursor, organization_id: str, user_id: str) -> dict[str, Any] | None:
        shapes = self.memberships(cur, organization_id, [user_id])
        return shapes[0] if shapes else None

    def memberships(self, cur: Cursor, organization_id: str, user_ids: list[str]) -> list[dict[str, Any]]:
        """membership() of each of these users that is a member, in the order asked."""
        rows = {r["user_id"]: r for r in self._rows_where_in(
            cur, "memberships", ("user_key", "user_id"), user_ids,
            "org_key=? AND organization_id=?", (index_key(organization_id), organization_id))}
        budget_ids = list({r["budget_id"] for r in rows.values() if r["budget_id"] is not None})
        budgets = {b["budget_id"]: budget_shape(b)
                   for b in self._rows_where_in(cur, "budgets", ("budget_key", "budget_id"), budget_ids)}
        shapes = []
        for user_id in user_ids:
            if (row := rows.get(user_id)) is not None:
                shape = membership_shape(row)
                if row["budget_id"] is not None:
                    shape["litellm_budget_table"] = budgets.get(row["budget_id"])
                shapes.append(shape)
        return shapes

    def budget(self, cur: Cursor, budget_id: str) -> dict[str, Any] | None:
        row = self._one(cur, "budgets", ("budget_key", "budget_id"), budget_id)
        return None if row is None else budget_shape(row)

    def users(self, cur: Cursor, user_ids: list[str]) -> list[dict[str, Any]]:
        """The users with these ids that exist, in the order asked."""
        rows = {r["user_id"]: r for r in self._rows_where_in(cur, "users", ("user_key", "user_id"), user_ids)}
        return [user_shape(rows[u]) for u in user_ids if u in rows]

    def user_ids_by_email(self, cur: Cursor, email: str) -> list[str]:
        return self.user_ids_by_emails(cur, [email]).get(email, [])

    def user_ids_by_emails(self, cur: Cursor, emails: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        rows = self._rows_where_in(cur, "users", ("email_key", "user_email"), emails,
                                   columns="user_id, user_email")
        for row in sorted(rows, key=lambda r: r["user_id"]):
            found.setdefault(row["user_email"], []).append(row["user_id"])
        return found

    def roles_of(self, cur: Cursor, user_id: str) -> dict[str, str]:
        """The user's role in each organization they belong to."""
        rows = cur.execute(
            f"SELECT organization_id, user_role FROM {self.t['memberships']} WHERE user_key=? AND user_id=?",
            (index_key(user_id), user_id),
        ).all()
        return {r["organization_id"]: r["user_role"] for r in rows}

    def member_ids(self, cur: Cursor, organization_id: str) -> list[str]:
        rows = cur.execute(
            f"SELECT user_id FROM {self.t['memberships']} WHERE org_key=? AND organization_id=? ORDER BY seq",
            (index_key(organization_id), organization_id),
        ).all()
        return [r["user_id"] for r in rows]

    def _one(self, cur: Cursor, table: str, key: tuple[str, str], value: str) -> dict[str, Any] | None:
        key_column, column = key
        return cur.execute(f"SELECT * FROM {self.t[table]} WHERE {key_column}=? AND {column}=?",
                           (index_key(value), value)).one()

    def _rows_where_in(self, cur: Cursor, table: str, key: tuple[str, str], values: list[str],
                       where: str = "", params: tuple[Any, ...] = (), columns: str = "*") -> list[dict[str, Any]]:
        """Rows whose `key` column pair (index key, full value) holds one of `values`, in chunks
        below the databases' parameter limits; the full values are compared here (`columns`
        must include the value's column)."""
        key_column, column = key
        wanted = set(values)
        distinct = list(dict.fromkeys(index_key(v) for v in values))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(distinct), MEMBERS_CHUNK):
            chunk = distinct[start:start + MEMBERS_CHUNK]
            rows += cur.execute(
                f"SELECT {columns} FROM {self.t[table]} WHERE {where + ' AND ' if where else ''}{key_column} IN"
                f" ({', '.join('?' * len(chunk))})", (*params, *chunk),
            ).all()
        return [r for r in rows if r[column] in wanted]


def _trigram_searchable(text: str) -> bool:
    """Whether the trigram index answers a search for `text` exactly. Under three characters it
    cannot narrow the search, and SQLite 3.40 misses matches of a shorter text of three bytes or
    more (one emoji); GLOB's wildcards are left to the plain scan rather than escaped."""
    return len(text) >= 3 and not any(c in text for c in "*?[]")
