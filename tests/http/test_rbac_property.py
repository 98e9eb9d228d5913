"""Property: over random users, global roles, memberships and commands, no caller ever changes
an organization they do not administer, and never reads one they do not belong to.

The judge is the event log and the read model, not the permission code: before each command the
caller's memberships are read from the view; after it, every new event that touches an
organization must come from a proxy admin or from that organization's org_admin."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.application.commands import AddMembers, CreateOrg, CreateUser, NewMember
from orgledger.domain.budget import Budget
from orgledger.domain.key import Key
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.values import ORG_ROLES, USER_ROLES, Actor
from tests.conftest import SETTINGS_PARAMS, backend_settings

ROOT = Actor(user_id="default_user_id")
USERS, ORGS = 3, 2
KINDS = ["update", "delete", "info", "info_post", "list", "member_add", "member_update",
         "member_delete", "key_generate", "new"]


@dataclass
class Env:
    runtime: Runtime
    client: TestClient
    budget_owner: dict[str, str]
    seen: int = 0


@pytest.fixture(scope="module", params=SETTINGS_PARAMS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with backend_settings(request.param, Path(tmp_path_factory.mktemp("rbac"))) as settings:
        runtime = build_runtime(settings)
        with TestClient(build_app(runtime=runtime)) as client:
            yield Env(runtime, client, {})
        runtime.close()


command = st.tuples(
    st.integers(0, USERS - 1),          # caller
    st.sampled_from(KINDS),
    st.integers(0, ORGS - 1),           # target organization
    st.integers(0, USERS),              # target user (USERS = someone new)
    st.sampled_from(ORG_ROLES),
)
scenario = st.fixed_dictionaries({
    "roles": st.lists(st.sampled_from(USER_ROLES), min_size=USERS, max_size=USERS),
    "memberships": st.lists(st.lists(st.sampled_from((None, *ORG_ROLES)), min_size=ORGS, max_size=ORGS),
                            min_size=USERS, max_size=USERS),
    "commands": st.lists(command, min_size=1, max_size=10),
})


def request_for(kind: str, org: str, user: str, role: str, orgs: list[str]) -> tuple[str, str, dict[str, Any]]:
    return {
        "update": ("PATCH", "/organization/update", {"json": {"organization_id": org, "max_budget": 5,
                                                              "organization_alias": "renamed"}}),
        "delete": ("DELETE", "/organization/delete", {"json": {"organization_ids": [org],
                                                               "organization_id": org}}),
        "info": ("GET", "/organization/info", {"params": {"organization_id": org}}),
        "info_post": ("POST", "/organization/info", {"json": {"organizations": orgs, "organization_id": org}}),
        "list": ("GET", "/organization/list", {}),
        "member_add": ("POST", "/organization/member_add", {"json": {
            "organization_id": org, "member": {"user_id": user, "role": role}}}),
        "member_update": ("PATCH", "/organization/member_update", {"json": {
            "organization_id": org, "user_id": user, "role": role, "max_budget_in_organization": 3}}),
        "member_delete": ("DELETE", "/organization/member_delete", {"json": {
            "organization_id": org, "user_id": user}}),
        "key_generate": ("POST", "/key/generate", {"json": {"organization_id": org}}),
        "new": ("POST", "/organization/new", {"json": {"organization_alias": "mine"}}),
    }[kind]


def touched_orgs(event: Any, budget_owner: dict[str, str]) -> set[str]:
    """The organizations an event changes (keys are the owner's, not the organization's)."""
    if isinstance(event, Organization.OrgCreated):
        budget_owner[event.budget_id] = event.organization_id
        return set()  # a new organization is nobody's to guard yet
    if isinstance(event, Membership.MemberBudgetChanged):
        budget_owner[event.budget_id] = event.organization_id
    if isinstance(event, Organization.Event | Membership.Event):
        return {event.organization_id}
    if isinstance(event, Budget.Event) and event.budget_id in budget_owner:
        return {budget_owner[event.budget_id]}
    return set()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_no_caller_changes_or_reads_an_organization_beyond_their_rights(env: Env, case: dict) -> None:
    runtime, ledger = env.runtime, env.runtime.ledger
    run = uuid.uuid4().hex[:8]
    users = [f"{run}-u{i}" for i in range(USERS)]
    orgs = [f"{run}-o{j}" for j in range(ORGS)]
    # Given users with random global roles, each with a key, and random memberships.
    keys = {}
    for user_id, role in zip(users, case["roles"], strict=True):
        keys[user_id] = ledger.create_user(CreateUser(actor=ROOT, user_id=user_id, user_role=role)).new_key.key
    for j, org in enumerate(orgs):
        ledger.create_org(CreateOrg(actor=ROOT, organization_alias=org, organization_id=org))
        members = [NewMember(role=case["memberships"][i][j], user_id=u) for i, u in enumerate(users)
                   if case["memberships"][i][j]]
        if members:
            ledger.add_members(AddMembers(actor=ROOT, organization_id=org, members=members))
    runtime.sync()
    for n in ledger.recorder.select_notifications(start=env.seen + 1, limit=1_000_000):
        touched_orgs(ledger.mapper.to_domain_event(n), env.budget_owner)
        env.seen = n.id

    for caller_i, kind, org_j, user_i, role in case["commands"]:
        caller = users[caller_i]
        with runtime.read() as cur:
            roles = runtime.organizations.roles_of(cur, caller)
        is_admin = case["roles"][caller_i] == "proxy_admin"
        target_user = users[user_i] if user_i < USERS else f"{run}-new"
        method, path, kwargs = request_for(kind, orgs[org_j], target_user, role, orgs)
        head = ledger.recorder.max_notification_id() or 0
        # When the caller sends the command with their own key...
        response = env.client.request(method, path, headers={"Authorization": f"Bearer {keys[caller]}"},
                                      **kwargs)
        assert response.status_code < 500, response.text
        # ...every organization it changed is one they administer.
        for n in ledger.recorder.select_notifications(start=head + 1, limit=1_000):
            env.seen = n.id
            event = ledger.mapper.to_domain_event(n)
            if isinstance(event, Organization.OrgCreated):
                assert is_admin, (kind, caller, event)
            for org in touched_orgs(event, env.budget_owner):
                assert is_admin or roles.get(org) == "org_admin", (kind, caller, org, roles, event)
            if isinstance(event, Key.KeyIssued) and event.organization_id:
                assert is_admin or event.organization_id in roles
        if response.status_code != 200:
            continue
        # ...and every organization it shows is one they belong to (info: one they administer).
        body = response.json()
        shown = body if isinstance(body, list) else [body] if kind == "info" else []
        for org in shown:
            org_id = org["organization_id"]
            if kind == "list":
                assert is_admin or org_id in roles
            else:
                assert is_admin or roles.get(org_id) == "org_admin"
