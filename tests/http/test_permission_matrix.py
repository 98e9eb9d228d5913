"""The whole permission matrix: every endpoint x every kind of caller, with status and text.

One world of users and keys per backend; each case gets a fresh organization T in which the
org_admin, the internal_user and the internal_user_viewer are members."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.application.commands import AddMembers, CreateOrg, CreateUser, DeleteKeys, GenerateKey, NewMember
from orgledger.domain.key import Key, token_of
from orgledger.domain.values import Actor
from tests.conftest import ADMIN, SETTINGS_PARAMS, backend_settings

ROOT = Actor(user_id="default_user_id")
PROXY_ADMIN_USER = "padmin-user"
ORG_ADMIN = "oadmin-user"
OTHER_ADMIN = "other-admin"
MEMBER = "member-user"
VIEWER = "viewer-user"
OUTSIDER = "outsider-user"


@dataclass
class World:
    runtime: Runtime
    client: TestClient
    headers: dict[str, dict[str, str]]
    other_org: str
    expires: str


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module", params=SETTINGS_PARAMS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with backend_settings(request.param, Path(tmp_path_factory.mktemp("matrix"))) as settings:
        yield from _world(settings)


def _world(settings: Settings) -> Iterator[World]:
    runtime = build_runtime(settings)
    ledger = runtime.ledger
    keys: dict[str, str] = {}
    for user_id, role in [(PROXY_ADMIN_USER, "proxy_admin"), (ORG_ADMIN, "internal_user"),
                          (OTHER_ADMIN, "internal_user"), (MEMBER, "internal_user"),
                          (VIEWER, "internal_user"), (OUTSIDER, "internal_user")]:
        done = ledger.create_user(CreateUser(actor=ROOT, user_id=user_id, user_role=role))
        keys[user_id] = done.new_key.key
    other_org = "org-other"
    ledger.create_org(CreateOrg(actor=ROOT, organization_alias="other", organization_id=other_org))
    ledger.add_members(AddMembers(actor=ROOT, organization_id=other_org,
                                  members=[NewMember(role="org_admin", user_id=OTHER_ADMIN)]))
    keyless = ledger.generate_key(GenerateKey(actor=ROOT)).new_key.key
    revoked = ledger.generate_key(GenerateKey(actor=ROOT, user_id=MEMBER)).new_key.key
    ledger.delete_keys(DeleteKeys(actor=ROOT, keys=[revoked]))
    # An expired key: issued an hour ago for an hour... written as the event that records it.
    expired_raw = "sk-expired-" + uuid.uuid4().hex
    expires = datetime.now(timezone.utc) - timedelta(minutes=5)
    ledger.save(Key(token=token_of(expired_raw), user_id=MEMBER, key_alias=None, models=[],
                    organization_id=None, expires=expires, actor=ROOT))
    runtime.sync()
    headers = {
        "master key": ADMIN,
        "proxy_admin user": _bearer(keys[PROXY_ADMIN_USER]),
        "org_admin of the org": _bearer(keys[ORG_ADMIN]),
        "org_admin of another org": _bearer(keys[OTHER_ADMIN]),
        "internal_user member": _bearer(keys[MEMBER]),
        "internal_user_viewer member": _bearer(keys[VIEWER]),
        "non-member": _bearer(keys[OUTSIDER]),
        "key without user": _bearer(keyless),
        "no key": {},
        "malformed Authorization": {"Authorization": keys[MEMBER]},
        "unknown key": _bearer("sk-never-issued-" + uuid.uuid4().hex),
        "expired key": _bearer(expired_raw),
        "revoked key": _bearer(revoked),
    }
    with TestClient(build_app(runtime=runtime)) as client:
        yield World(runtime, client, headers, other_org, expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    runtime.close()


@dataclass
class Scene:
    org: str
    member_key: str


@pytest.fixture
def scene(world: World) -> Scene:
    ledger = world.runtime.ledger
    org = "org-" + uuid.uuid4().hex[:8]
    ledger.create_org(CreateOrg(actor=ROOT, organization_alias="target", organization_id=org))
    ledger.add_members(AddMembers(actor=ROOT, organization_id=org, members=[
        NewMember(role="org_admin", user_id=ORG_ADMIN),
        NewMember(role="internal_user", user_id=MEMBER),
        NewMember(role="internal_user_viewer", user_id=VIEWER),
    ]))
    member_key = ledger.generate_key(GenerateKey(actor=ROOT, user_id=MEMBER)).new_key.key
    world.runtime.sync()
    return Scene(org, member_key)


Request = Callable[[Scene], tuple[str, str, dict[str, Any]]]
ENDPOINTS: dict[str, Request] = {
    "/organization/new": lambda s: ("POST", "/organization/new", {"json": {"organization_alias": "n"}}),
    "/organization/update": lambda s: ("PATCH", "/organization/update",
                                       {"json": {"organization_id": s.org, "organization_alias": "u"}}),
    "/organization/delete": lambda s: ("DELETE", "/organization/delete", {"json": {"organization_ids": [s.org]}}),
    "/organization/list": lambda s: ("GET", "/organization/list", {}),
    "GET /organization/info": lambda s: ("GET", "/organization/info", {"params": {"organization_id": s.org}}),
    "POST /organization/info": lambda s: ("POST", "/organization/info", {"json": {"organizations": [s.org]}}),
    "/organization/member_add": lambda s: ("POST", "/organization/member_add", {"json": {
        "organization_id": s.org, "member": {"user_id": "new-" + s.org, "role": "internal_user"}}}),
    "/organization/member_update": lambda s: ("PATCH", "/organization/member_update", {"json": {
        "organization_id": s.org, "user_id": VIEWER, "role": "internal_user"}}),
    "/organization/member_delete": lambda s: ("DELETE", "/organization/member_delete", {"json": {
        "organization_id": s.org, "user_id": MEMBER}}),
    "/user/new": lambda s: ("POST", "/user/new", {"json": {"user_email": "n@example.com"}}),
    "/user/info": lambda s: ("GET", "/user/info", {"params": {"user_id": MEMBER}}),
    "/key/generate": lambda s: ("POST", "/key/generate", {"json": {"user_id": MEMBER, "organization_id": s.org}}),
    "/key/delete": lambda s: ("POST", "/key/delete", {"json": {"keys": [s.member_key]}}),
}
ORG_ADMIN_ROUTES = ["GET /organization/info", "POST /organization/info", "/organization/member_add",
                    "/organization/member_update", "/organization/member_delete"]
READS = ["/organization/list", "GET /organization/info", "POST /organization/info", "/user/info"]
SELF_SERVICE = ["/user/info", "/key/generate", "/key/delete"]


def masked(user_id: str) -> str:
    return user_id[:2] + "*" * (len(user_id) - 4) + user_id[-2:]


def route_of(endpoint: str) -> str:
    return endpoint.split(" ")[-1]


def layer_b(endpoint: str, role: str, user_id: str) -> str:
    return ("Authentication Error, Only proxy admin can be used to generate, delete, update info "
            f"for new keys/users/teams. Route={route_of(endpoint)}. Your role={role}. Your user_id={user_id}")


def expected(endpoint: str, caller: str, s: Scene, w: World) -> tuple[int, str | None]:
    """(status, a text the error message must contain, or None for success)."""
    route = route_of(endpoint)
    if caller in ("master key", "proxy_admin user"):
        return 200, None
    if caller == "no key":
        return 401, "Authentication Error, No api key passed in."
    if caller == "malformed Authorization":
        return 401, "Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` prefix."
    if caller in ("unknown key", "revoked key"):
        return 401, "Authentication Error, Invalid proxy server token passed. Received API Key = sk-..."
    if caller == "expired key":
        return 400, f"Authentication Error - Expired Key. Key Expiry time {w.expires} and current time "
    if route == "/organization/list":
        return 200, None
    if caller == "key without user":
        return 401, layer_b(endpoint, "unknown", "unknown")
    user_id, org_role = {
        "org_admin of the org": (ORG_ADMIN, "org_admin"),
        "org_admin of another org": (OTHER_ADMIN, None),
        "internal_user member": (MEMBER, "internal_user"),
        "internal_user_viewer member": (VIEWER, "internal_user_viewer"),
        "non-member": (OUTSIDER, None),
    }[caller]
    if route == "/organization/new":
        return 401, "Only proxy admins can create new organizations. You are internal_user"
    if endpoint in ORG_ADMIN_ROUTES or route == "/organization/delete":
        if caller == "non-member":
            return 401, (f"Tried to access route={route} but you are not a member of any organization. "
                         "Please contact the proxy admin to request access.")
        if route == "/organization/delete":
            # The body names organization_ids, not the organization_id the checks read.
            return 401, "Passed organization_id is None, please pass an organization_id in your request"
        if org_role is None:
            return 401, ("You do not have a role within the selected organization. Passed organization_id: "
                         f"{s.org}. Please contact the organization admin to request access.")
        if org_role != "org_admin":
            return 401, (f"You do not have the required role to perform {route} in Organization {s.org}. "
                         f"Your role is {org_role} in Organization {s.org}")
        return 200, None
    if endpoint in SELF_SERVICE and user_id == MEMBER:
        return 200, None
    return 401, layer_b(endpoint, "internal_user", masked(user_id))


CALLERS = ["master key", "proxy_admin user", "org_admin of the org", "org_admin of another org",
           "internal_user member", "internal_user_viewer member", "non-member", "key without user",
           "no key", "malformed Authorization", "unknown key", "expired key", "revoked key"]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_permission_matrix(world: World, scene: Scene, endpoint: str, caller: str) -> None:
    method, path, kwargs = ENDPOINTS[endpoint](scene)
    head = world.runtime.ledger.recorder.max_notification_id()
    # The caller calls the endpoint.
    response = world.client.request(method, path, headers=world.headers[caller], **kwargs)
    status, text = expected(endpoint, caller, scene, world)
    assert response.status_code == status, response.text
    body = response.json()
    if text is None:
        # Allowed: a command wrote its events, a query wrote nothing.
        wrote = world.runtime.ledger.recorder.max_notification_id() != head
        assert wrote == (endpoint not in READS), endpoint
        return
    # Refused: LiteLLM's error body and text, and nothing was written.
    message = body["error"]["message"] if "error" in body else body["detail"]["error"]
    assert text in message
    assert world.runtime.ledger.recorder.max_notification_id() == head


@pytest.mark.parametrize("caller, sees", [
    ("org_admin of the org", "target"), ("internal_user member", "target"),
    ("internal_user_viewer member", "target"), ("org_admin of another org", "other"),
    ("non-member", None), ("key without user", None),
])
def test_list_shows_only_the_callers_organizations(world: World, scene: Scene, caller: str,
                                                   sees: str | None) -> None:
    # The caller lists organizations.
    listed = world.client.get("/organization/list", headers=world.headers[caller]).json()
    ids = {o["organization_id"] for o in listed}
    # They see the ones they belong to and not the others.
    assert (scene.org in ids) == (sees == "target")
    assert (world.other_org in ids) == (sees == "other")
    if sees is None:
        assert listed == []


def test_org_admin_delete_with_its_own_organization_id_is_refused_by_the_handler(
        world: World, scene: Scene) -> None:
    # An org_admin names their organization as organization_id too, which passes the auth checks.
    response = world.client.request(
        "DELETE", "/organization/delete", headers=world.headers["org_admin of the org"],
        json={"organization_ids": [scene.org], "organization_id": scene.org})
    # The delete itself is for proxy admins only (LiteLLM's handler-level check).
    assert response.status_code == 401
    assert response.json() == {"detail": {"error": "Only proxy admins can delete organizations"}}
