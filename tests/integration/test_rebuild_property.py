"""Property: for any sequence of commands, every projection rebuilt from the log equals the live one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgledger.adapters.runtime import Runtime, build_runtime, projection_classes
from orgledger.application.commands import (
    AddMembers,
    CreateOrg,
    DeleteOrgs,
    NewMember,
    RemoveMember,
    UpdateMember,
    UpdateOrg,
)
from orgledger.domain.errors import DomainError
from orgledger.domain.values import ORG_ROLES, Actor, BudgetLimits
from orgledger.projections import audit, rebuild
from orgledger.projections.audit import AuditView
from orgledger.projections.base import Projection
from tests.conftest import make_settings

orgs = st.sampled_from(["o1", "o2", "o3"])
users = st.sampled_from(["u1", "u2", "u3", "u4"])
roles = st.sampled_from(ORG_ROLES)
actors = st.builds(Actor, user_id=st.sampled_from(["admin", "alice"]),
                   api_key_hash=st.sampled_from(["a" * 64, "b" * 64]))
budgets = st.none() | st.floats(min_value=0, max_value=1000, allow_nan=False)

commands = st.one_of(
    st.builds(lambda a, o, b: CreateOrg(actor=a, organization_alias=o.upper(), organization_id=o,
                                        limits=BudgetLimits(max_budget=b)), actors, orgs, budgets),
    st.builds(lambda a, o, alias, b, meta: UpdateOrg(
        actor=a, organization_id=o, organization_alias=alias, limits=BudgetLimits(max_budget=b),
        metadata=meta), actors, orgs, st.none() | st.text(max_size=5), budgets,
        st.none() | st.dictionaries(st.sampled_from(["k", "n"]), st.integers(0, 3), max_size=2)),
    st.builds(lambda a, o, us, r: AddMembers(actor=a, organization_id=o,
                                             members=[NewMember(role=r, user_id=u) for u in us]),
              actors, orgs, st.lists(users, min_size=1, max_size=3, unique=True), roles),
    # Members named by email: users and their email's index (which no view shows) are created too.
    st.builds(lambda a, o, us, r: AddMembers(actor=a, organization_id=o, members=[
        NewMember(role=r, user_email=f"{u}@example.com") for u in us]),
              actors, orgs, st.lists(users, min_size=1, max_size=2, unique=True), roles),
    st.builds(lambda a, o, u, r, b: UpdateMember(actor=a, organization_id=o, user_id=u, role=r,
                                                 max_budget_in_organization=b),
              actors, orgs, users, st.none() | roles, budgets),
    st.builds(lambda a, o, u: RemoveMember(actor=a, organization_id=o, user_id=u), actors, orgs, users),
    st.builds(lambda a, os_: DeleteOrgs(actor=a, organization_ids=os_), actors,
              st.lists(orgs, min_size=1, max_size=2)),
)

RUN = {CreateOrg: "create_org", UpdateOrg: "update_org", AddMembers: "add_members",
       UpdateMember: "update_member", RemoveMember: "remove_member", DeleteOrgs: "delete_orgs"}


def run(runtime: Runtime, command: Any) -> None:
    try:
        getattr(runtime.ledger, RUN[type(command)])(command)
    except DomainError:
        pass  # a refused command writes nothing, which is part of what is checked
    runtime.sync()


def dump(runtime: Runtime, projection: Projection) -> dict[str, Any]:
    with runtime.read() as cur:
        tables = {name: sorted((tuple(r.values()) for r in cur.execute(f"SELECT * FROM {table}").all()),
                               key=repr)
                  for name, table in projection.t.items()}
        return {"position": projection.position(cur), **tables}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(commands, min_size=1, max_size=12))
def test_rebuilt_views_equal_live_views(tmp_path: Path, sequence: list[Any]) -> None:
    runtime = build_runtime(make_settings("popo", tmp_path))
    try:
        for command in sequence:
            run(runtime, command)
        for cls in projection_classes():
            live = runtime.projection(cls.name)
            live_rows = dump(runtime, live)
            # The new tables, built beside the live ones, hold the same rows at the same position.
            new, events = rebuild.prepare(runtime.ledger, runtime.store, cls, batch_size=7)
            assert events == (runtime.ledger.recorder.max_notification_id() or 0)
            assert dump(runtime, new) == live_rows, cls.name
            # After the switch the live tables (same names) still hold them.
            with runtime.store.transaction() as cur:
                rebuild.switch_over(runtime.ledger, cur, cls(), new, batch_size=7)
            assert dump(runtime, live) == live_rows, cls.name
        # The switched views keep following the log.
        run(runtime, CreateOrg(actor=Actor("admin"), organization_alias="late", organization_id="late"))
        with runtime.read() as cur:
            assert runtime.organizations.org(cur, "late") is not None
    finally:
        runtime.close()


def test_rebuild_that_outgrows_its_memory_equals_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A rebuild remembers a few object states and budget links only, so it reads the rest back.
    monkeypatch.setattr(audit, "MEMORY", 4)
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    admin = Actor("admin")
    try:
        for o in ("o1", "o2", "o3", "o4"):
            run(runtime, CreateOrg(actor=admin, organization_alias=o, organization_id=o,
                                   limits=BudgetLimits(max_budget=1.0)))
            run(runtime, AddMembers(actor=admin, organization_id=o, members=[
                NewMember(role="internal_user", user_id=u) for u in ("u1", "u2", "u3")]))
        for o in ("o1", "o2", "o3", "o4"):
            run(runtime, UpdateOrg(actor=admin, organization_id=o, organization_alias=o + "!",
                                   limits=BudgetLimits(max_budget=2.0), metadata={"k": 1}))
            run(runtime, UpdateMember(actor=admin, organization_id=o, user_id="u1", role="org_admin",
                                      max_budget_in_organization=5.0))
            run(runtime, UpdateMember(actor=admin, organization_id=o, user_id="u1", role=None,
                                      max_budget_in_organization=6.0))
            run(runtime, RemoveMember(actor=admin, organization_id=o, user_id="u2"))
        run(runtime, AddMembers(actor=admin, organization_id="o1",
                                members=[NewMember(role="internal_user", user_id="u2")]))
        run(runtime, DeleteOrgs(actor=admin, organization_ids=["o2"]))
        live = runtime.projection("audit")
        new, _ = rebuild.prepare(runtime.ledger, runtime.store, AuditView, batch_size=3)
        assert dump(runtime, new) == dump(runtime, live)
        assert not new._states.complete  # the memory was trimmed on the way
    finally:
        runtime.close()
