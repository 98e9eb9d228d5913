"""Properties over random command sequences, valid and invalid ones mixed:

(a) every organization the view answers equals an independent fold over the event log;
(b) a service restarted on the same SQLite data directory answers identically, and so does
    one whose read models were deleted and rebuilt from the log;
and a refused command writes no event."""

from __future__ import annotations

import tempfile
from datetime import timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
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
from orgledger.domain.values import Actor, BudgetLimits

ORGS = ["o0", "o1", "o2", "o3"]
USERS = ["u0", "u1"]
EMAILS = ["a@x.io", "b@x.io"]
ROLES = ["org_admin", "internal_user", "internal_user_viewer", "proxy_admin"]  # the last is invalid
ACTORS = [Actor(user_id="default_user_id", api_key_hash="a" * 64), Actor(user_id="alice", api_key_hash="b" * 64)]

budgets = st.one_of(st.none(), st.sampled_from([-1.0, 0.0, 2.5, 100.0]))
aliases = st.sampled_from(["Sales", "sales-eu", "Ops", "ÄBC"])
metadata = st.dictionaries(st.sampled_from(["k", "n", "d"]),
                           st.one_of(st.none(), st.sampled_from(["7", "x", "1.5"]), st.integers(0, 3),
                                     st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2)),
                           max_size=3)
member_key = st.one_of(
    st.tuples(st.sampled_from(USERS), st.none()),
    st.tuples(st.none(), st.sampled_from(EMAILS)),
    st.tuples(st.sampled_from(USERS), st.sampled_from(EMAILS)),
)
members = st.lists(st.tuples(st.sampled_from(ROLES[:3] * 2 + ROLES[3:]), member_key), min_size=1, max_size=3)
who = st.one_of(st.tuples(st.sampled_from(USERS), st.none()), st.tuples(st.none(), st.sampled_from(EMAILS)))

# Every sequence starts with the organizations in place, so member commands mostly have one to act on.
SETUP = [CreateOrg(actor=ACTORS[0], organization_alias="Sales", organization_id=o) for o in ORGS[:3]]

create = st.builds(lambda o, a, mb, sb, actor: CreateOrg(actor=actor, organization_alias=a, organization_id=o,
                                                limits=BudgetLimits(max_budget=mb, soft_budget=sb)),
          st.sampled_from(ORGS), aliases, budgets, budgets, st.sampled_from(ACTORS))
update = st.builds(lambda o, a, m, md, mb, actor: UpdateOrg(actor=actor, organization_id=o, organization_alias=a,
                                                   models=m, metadata=md, limits=BudgetLimits(max_budget=mb)),
          st.sampled_from(ORGS), st.one_of(st.none(), aliases),
          st.one_of(st.none(), st.lists(st.sampled_from(["gpt-4", "claude"]), max_size=2)),
          st.one_of(st.none(), metadata), budgets, st.sampled_from(ACTORS))
delete = st.builds(lambda ids, actor: DeleteOrgs(actor=actor, organization_ids=ids),
          st.lists(st.sampled_from(ORGS), min_size=1, max_size=2), st.sampled_from(ACTORS))
add_members = st.builds(lambda o, ms, actor: AddMembers(actor=actor, organization_id=o,
                                          members=[NewMember(role=r, user_id=u, user_email=e) for r, (u, e) in ms]),
          st.sampled_from(ORGS), members, st.sampled_from(ACTORS))
update_member = st.builds(lambda o, w, r, b, actor: UpdateMember(actor=actor, organization_id=o, user_id=w[0], user_email=w[1],
                                                 role=r, max_budget_in_organization=b),
          st.sampled_from(ORGS), who, st.one_of(st.none(), st.sampled_from(ROLES)), budgets,
          st.sampled_from(ACTORS))
remove_member = st.builds(lambda o, w, actor: RemoveMember(actor=actor, organization_id=o, user_id=w[0], user_email=w[1]),
          st.sampled_from(ORGS), who, st.sampled_from(ACTORS))
# Deletes end an organization's story, so they are rarer; member commands are the most varied.
WEIGHTED = [create, update, update, delete, *[add_members] * 6, *[update_member] * 6, *[remove_member] * 3]
commands = st.sampled_from(range(len(WEIGHTED))).flatmap(lambda i: WEIGHTED[i])

METHODS = {
    CreateOrg: "create_org", UpdateOrg: "update_org", DeleteOrgs: "delete_orgs", AddMembers: "add_members",
    UpdateMember: "update_member", RemoveMember: "remove_member",
}


def run(runtime: Runtime, cmds: list[Any]) -> None:
    """Runs every command; a refused one must leave the log as it was."""
    for cmd in cmds:
        before = runtime.ledger.recorder.max_notification_id()
        try:
            getattr(runtime.ledger, METHODS[type(cmd)])(cmd)
        except DomainError as e:
            assert runtime.ledger.recorder.max_notification_id() == before, f"{cmd} failed but wrote events"
            event(f"refused {type(cmd).__name__}: {type(e).__name__}")
        else:
            event(f"done {type(cmd).__name__}")
    runtime.sync()


# The independent fold: the expected read model, computed from the events alone.

def stamp(ts: Any) -> str:
    return ts.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


LIMIT_FIELDS = ("soft_budget", "max_budget", "max_parallel_requests", "tpm_limit", "rpm_limit",
                "model_max_budget", "budget_duration")


def fold(runtime: Runtime) -> dict[str, dict[str, Any]]:
    """Every live organization as LiteLLM's info shape, from the events read off the log."""
    budgets: dict[str, dict[str, Any]] = {}
    orgs: dict[str, dict[str, Any]] = {}
    members: dict[str, dict[str, dict[str, Any]]] = {}
    notifications = runtime.ledger.recorder.select_notifications(start=1, limit=1_000_000)
    previous = None
    for n in notifications:
        e = runtime.ledger.mapper.to_domain_event(n)
        kind, at = type(e).__name__, stamp(e.timestamp)
        # One writer at a time: the log is in timestamp order (the audit's date filters rely on it).
        assert previous is None or e.timestamp >= previous, f"{kind} at {n.id} is older than the event before"
        previous = e.timestamp
        if kind == "BudgetCreated":
            budgets[e.budget_id] = {"budget_id": e.budget_id, **{f: getattr(e.limits, f) for f in LIMIT_FIELDS}}
        elif kind == "BudgetUpdated":
            budgets[e.budget_id].update({f: getattr(e.changes, f) for f in LIMIT_FIELDS
                                         if getattr(e.changes, f) is not None})
        elif kind == "OrgCreated":
            permission = None if e.object_permission is None else {
                "object_permission_id": e.object_permission.object_permission_id,
                "mcp_servers": e.object_permission.mcp_servers,
                "mcp_access_groups": e.object_permission.mcp_access_groups,
                "mcp_tool_permissions": e.object_permission.mcp_tool_permissions,
                "vector_stores": e.object_permission.vector_stores,
            }
            orgs[e.organization_id] = {
                "organization_id": e.organization_id, "organization_alias": e.organization_alias,
                "budget_id": e.budget_id, "spend": 0.0, "metadata": e.metadata, "models": e.models,
                "created_by": e.actor.user_id, "updated_by": e.actor.user_id, "users": None,
                "object_permission": permission, "created_at": at, "updated_at": at,
            }
            members[e.organization_id] = {}
        elif kind == "OrgUpdated":
            o = orgs[e.organization_id]
            for f in ("organization_alias", "models", "metadata", "spend"):
                if getattr(e, f) is not None:
                    o[f] = getattr(e, f)
            o["updated_by"], o["updated_at"] = e.actor.user_id, at
        elif kind == "OrgDeleted":
            del orgs[e.organization_id]
        elif kind in ("MemberAdded", "MemberRejoined"):
            assert e.organization_id in orgs, f"{e.user_id} joined a deleted or missing organization"
            members[e.organization_id][e.user_id] = {
                "user_id": e.user_id, "organization_id": e.organization_id, "user_role": e.role, "spend": 0.0,
                "budget_id": None, "created_at": at, "updated_at": at, "user": None, "litellm_budget_table": None,
            }
        elif kind == "RoleChanged":
            members[e.organization_id][e.user_id].update(user_role=e.role, updated_at=at)
        elif kind == "MemberBudgetChanged":
            members[e.organization_id][e.user_id].update(budget_id=e.budget_id, updated_at=at)
        elif kind == "MemberRemoved":
            del members[e.organization_id][e.user_id]
    result = {}
    for organization_id, o in orgs.items():
        permission = o["object_permission"]
        # LiteLLM_OrganizationTableWithMembers' serialised key order (reference §4.3).
        result[organization_id] = {
            **{k: o[k] for k in ("organization_id", "organization_alias", "budget_id", "spend", "metadata",
                                 "models", "created_by", "updated_by", "users")},
            "litellm_budget_table": budgets[o["budget_id"]], "object_permission": permission,
            "object_permission_id": permission and permission["object_permission_id"],
            "members": list(members[organization_id].values()), "teams": [],
            "created_at": o["created_at"], "updated_at": o["updated_at"],
        }
    return result


def answers(runtime: Runtime) -> dict[str, Any]:
    """What the read side says: list (plain and filtered), info of every org, members by user."""
    with runtime.read() as cur:
        view = runtime.organizations
        listed = view.orgs(cur)
        return {
            "list": listed,
            "info": {o: view.org(cur, o) for o in ORGS},
            "raw": view.raw_orgs(cur, ORGS),
            "by_member": {u: view.orgs(cur, member=u) for u in USERS},
            "by_alias": view.orgs(cur, org_alias="SALES"),
            "memberships": {(o, u): view.membership(cur, o, u) for o in ORGS for u in USERS},
            "users": view.users(cur, USERS),
            "emails": {e: view.user_ids_by_email(cur, e) for e in EMAILS},
        }


def comparable(org: dict[str, Any]) -> dict[str, Any]:
    # Key order is part of the contract; the fold builds it independently, so compare it too.
    return {"keys": list(org), **org}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cmds=st.lists(commands, min_size=10, max_size=40))
def test_the_view_equals_a_fold_over_the_log_on_popo(cmds: list[Any]) -> None:
    runtime = build_runtime(Settings(master_key="sk-x", backend="popo"))
    try:
        run(runtime, SETUP + cmds)
        expected = fold(runtime)
        with runtime.read() as cur:
            listed = runtime.organizations.orgs(cur)
            infos = {o: runtime.organizations.org(cur, o) for o in ORGS}
        assert [o["organization_id"] for o in listed] == list(expected)
        for shown in listed:
            want = expected[shown["organization_id"]]
            assert comparable(shown) == comparable(want)
        for organization_id in ORGS:
            want_info = expected.get(organization_id)
            assert (infos[organization_id] and comparable(infos[organization_id])) == (want_info and comparable(want_info))
    finally:
        runtime.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cmds=st.lists(commands, min_size=3, max_size=20), more=st.lists(commands, max_size=5))
def test_a_restarted_service_answers_the_same_on_sqlite(cmds: list[Any], more: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        config = Settings(master_key="sk-x", data_dir=data, backend="sqlite")
        first = build_runtime(config)
        try:
            run(first, SETUP + cmds)
            before = answers(first)
            expected = fold(first)
        finally:
            first.close()
        # Restarted on the same files.
        second = build_runtime(config)
        try:
            assert answers(second) == before
            # It keeps working where the first one stopped.
            run(second, more)
            after = answers(second)
        finally:
            second.close()
        # Read models deleted: rebuilt from the log alone, they answer the same.
        (data / "views.db").unlink()
        for leftover in data.glob("views.db-*"):
            leftover.unlink()
        third = build_runtime(config)
        try:
            assert answers(third) == after
        finally:
            third.close()
        assert {o["organization_id"]: o for o in before["list"]}.keys() == expected.keys()
