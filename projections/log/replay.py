"""An organization as it was at a moment: its events replayed into a private organizations view,
so the answer has exactly the shape of /organization/info."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from typing import Any

from orgledger.domain.ids import organization_uuid

from orgledger.projections.log.reader import LoggedEvent, head, stream
from orgledger.projections.organizations.view import OrganizationsView
from orgledger.projections.store import Cursor


class ReplayError(Exception):
    """Raised when the organization did not exist (or no longer existed) at the moment asked for."""


def organization_state(app: Any, organization_id: str, *, as_of: datetime | None = None,
                       version: int | None = None) -> dict[str, Any]:
    """`as_of`: every event stamped at or before that time. `version`: the organization right
    after the command that made its version N (1 = as created), with the rest of that command."""
    if (as_of is None) == (version is None):
        raise ValueError("give exactly one of as_of and version")
    created = next(iter(app.events.get(organization_uuid(organization_id), limit=1)), None)
    if created is None:
        raise ReplayError(f"organization {organization_id} is not in the event log")
    budget_id = created.budget_id  # an organization keeps its budget for life
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.row_factory = sqlite3.Row
        return _replay(app, Cursor(conn.cursor(), postgres=False), organization_id, budget_id,
                       as_of, version)


def _replay(app: Any, cur: Cursor, organization_id: str, budget_id: str, as_of: datetime | None,
            version: int | None) -> dict[str, Any]:
    view = OrganizationsView()
    view.create_tables(cur)
    org_version = 0
    deleted_at: LoggedEvent | None = None
    cut: LoggedEvent | None = None  # the event that made version N
    for e in stream(app, stop=head(app)):
        if cut is not None:
            if not _same_command(cut, e, organization_id, budget_id):
                break
        elif not _concerns(e, organization_id, budget_id) or (as_of is not None and e.timestamp > as_of):
            continue
        view.apply(app.mapper.to_domain_event(e.stored), cur, e.position)
        if e.aggregate == "Organization" and cut is None:
            org_version = e.originator_version
            deleted_at = e if e.type == "OrgDeleted" else None
            if version is not None and org_version == version:
                cut = e
    return _answer(view, cur, organization_id, org_version, version, as_of, deleted_at, cut)


def _concerns(e: LoggedEvent, organization_id: str, budget_id: str) -> bool:
    p = e.payload
    if e.aggregate in ("Organization", "Membership"):
        return p.get("organization_id") == organization_id
    return e.aggregate == "Budget" and p.get("budget_id") == budget_id


def _answer(view: OrganizationsView, cur: Cursor, organization_id: str, org_version: int,
            version: int | None, as_of: datetime | None, deleted_at: LoggedEvent | None,
            cut_at: LoggedEvent | None) -> dict[str, Any]:
    if org_version == 0:
        when = as_of.isoformat() if as_of is not None else "that moment"
        raise ReplayError(f"organization {organization_id} did not exist yet at {when}")
    if version is not None and cut_at is None:
        raise ReplayError(f"organization {organization_id} has versions 1 to {org_version}, not {version}")
    if deleted_at is not None:
        raise ReplayError(f"organization {organization_id} was deleted at {deleted_at.iso_timestamp} "
                          f"(version {deleted_at.originator_version})")
    org = view.org(cur, organization_id)
    assert org is not None
    return org


def _same_command(cut: LoggedEvent, e: LoggedEvent, organization_id: str, budget_id: str) -> bool:
    """Whether `e`, next in the log after the events of the command that made version N, belongs
    to that command too: same actor, and what that command saves after the organization's
    event (an update's budget change, a delete's member removals). One save's events are
    consecutive in the log, so the first event that fails this ends the command."""
    if e.actor != cut.actor:
        return False
    if cut.type == "OrgUpdated":
        return e.aggregate == "Budget" and e.payload.get("budget_id") == budget_id
    if cut.type == "OrgDeleted":
        return e.type == "MemberRemoved" and e.payload.get("organization_id") == organization_id
    return False
