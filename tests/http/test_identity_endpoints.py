"""The user and key endpoints: shapes, validation and key lifetimes, on every backend."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN

LITELLM_USER_NEW_EXTRAS = {
    "user_alias": "Dana", "teams": ["t-1"], "team_id": "t-1", "organizations": ["o-1"],
    "send_invite_email": False, "sso_user_id": "sso-1", "aliases": {"m": "gpt-4"}, "spend": 0,
    "budget_duration": "30d", "tpm_limit": 10, "rpm_limit": 5, "max_parallel_requests": 2,
    "allowed_cache_controls": [], "config": {}, "permissions": {}, "model_max_budget": {},
    "model_rpm_limit": {"gpt-4": 1}, "model_tpm_limit": {"gpt-4": 1}, "guardrails": ["g"],
    "blocked": False, "object_permission": {"vector_stores": ["v"]},
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_user_new_accepts_litellms_other_fields_and_returns_the_user_with_a_key(client: TestClient) -> None:
    # Admin creates a user with every field LiteLLM documents.
    response = client.post("/user/new", headers=ADMIN, json={
        "user_id": "dana", "user_email": "dana@example.com", "user_role": "internal_user_viewer",
        "models": ["gpt-4"], "max_budget": 10.5, "metadata": {"team": "x"}, "duration": "7d",
        "key_alias": "laptop", **LITELLM_USER_NEW_EXTRAS})
    assert response.status_code == 200, response.text
    user = response.json()
    assert {k: user[k] for k in ("user_id", "user_email", "user_role", "models", "max_budget", "metadata")} == {
        "user_id": "dana", "user_email": "dana@example.com", "user_role": "internal_user_viewer",
        "models": ["gpt-4"], "max_budget": 10.5, "metadata": {"team": "x"}}
    # The key is returned once, with its token and its expiry a week away.
    assert user["key"].startswith("sk-") and user["token"] == hashlib.sha256(user["key"].encode()).hexdigest()
    assert user["key_alias"] == "laptop"
    assert abs(parse(user["expires"]) - datetime.now(timezone.utc) - timedelta(days=7)) < timedelta(seconds=10)
    # The ignored fields were not stored.
    assert user["tpm_limit"] is None and user["user_alias"] is None and user["teams"] == []


def test_user_new_generates_an_id_and_can_skip_the_key(client: TestClient) -> None:
    user = client.post("/user/new", headers=ADMIN, json={"auto_create_key": False}).json()
    assert len(user["user_id"]) == 36 and user["user_role"] == "internal_user"
    assert user["key"] is None and user["token"] is None
    info = client.get("/user/info", params={"user_id": user["user_id"]}, headers=ADMIN).json()
    assert info["keys"] == []


@pytest.mark.parametrize("body, loc", [
    ({"tpm_limit": "many"}, ["body", "tpm_limit"]),
    ({"aliases": ["not", "a", "dict"]}, ["body", "aliases"]),
    ({"user_role": "superuser"}, ["body", "user_role"]),
    ({"auto_create_key": "sometimes"}, ["body", "auto_create_key"]),
    ({"max_budget": "lots"}, ["body", "max_budget"]),
])
def test_user_new_wrong_types_are_422_and_write_nothing(client: TestClient, runtime, body, loc) -> None:
    head = runtime.ledger.recorder.max_notification_id()
    response = client.post("/user/new", headers=ADMIN, json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    assert runtime.ledger.recorder.max_notification_id() == head


def test_a_duplicate_user_id_and_a_bad_duration_are_400(client: TestClient) -> None:
    assert client.post("/user/new", headers=ADMIN, json={"user_id": "u"}).status_code == 200
    again = client.post("/user/new", headers=ADMIN, json={"user_id": "u"})
    assert again.status_code == 400 and again.json() == {"detail": {"error": "User with id=u already exists"}}
    bad = client.post("/key/generate", headers=ADMIN, json={"duration": "soon"})
    assert bad.status_code == 400 and "Invalid duration='soon'" in bad.json()["detail"]["error"]


def test_user_info_lists_keys_by_token_and_alias_never_raw(client: TestClient) -> None:
    created = client.post("/user/new", headers=ADMIN, json={"user_id": "kim", "key_alias": "first"}).json()
    second = client.post("/key/generate", headers=ADMIN, json={"user_id": "kim", "key_alias": "second"}).json()
    # Kim reads their own info with their key, without naming themself.
    info = client.get("/user/info", headers=bearer(created["key"]))
    assert info.status_code == 200
    body = info.json()
    assert body["user_id"] == "kim" and body["teams"] == []
    assert body["user_info"]["user_id"] == "kim" and body["user_info"]["user_role"] == "internal_user"
    assert [(k["token"], k["key_alias"]) for k in body["keys"]] == [
        (created["token"], "first"), (second["token"], "second")]
    assert created["key"] not in info.text and second["key"] not in info.text
    # An unknown user is a 404.
    missing = client.get("/user/info", params={"user_id": "nobody"}, headers=ADMIN)
    assert missing.status_code == 404


def test_key_generate_returns_litellms_fields(client: TestClient) -> None:
    org_id = client.post("/organization/new", headers=ADMIN, json={"organization_alias": "o"}).json()["organization_id"]
    key = client.post("/key/generate", headers=ADMIN, json={
        "user_id": "u-1", "key_alias": "ci", "models": ["gpt-4"], "organization_id": org_id, "duration": "30s"}).json()
    assert {k: key[k] for k in ("user_id", "key_alias", "models", "organization_id")} == {
        "user_id": "u-1", "key_alias": "ci", "models": ["gpt-4"], "organization_id": org_id}
    assert key["token"] == hashlib.sha256(key["key"].encode()).hexdigest()
    assert timedelta(seconds=25) < parse(key["expires"]) - datetime.now(timezone.utc) <= timedelta(seconds=30)
    # Without a duration a key does not expire; a key for an unknown organization is refused.
    assert client.post("/key/generate", headers=ADMIN, json={}).json()["expires"] is None
    unknown = client.post("/key/generate", headers=ADMIN, json={"organization_id": "nope"})
    assert unknown.status_code == 404


def test_a_key_of_one_month_expires_a_calendar_month_later(client: TestClient) -> None:
    before = datetime.now(timezone.utc)
    key = client.post("/key/generate", headers=ADMIN, json={"user_id": "u", "duration": "1mo"})
    assert key.status_code == 200, key.text
    expires = parse(key.json()["expires"])
    # LiteLLM's month: the same day of the next month (or its last day), at the same time.
    assert expires.month == before.month % 12 + 1
    assert timedelta(days=28) <= expires - before <= timedelta(days=31, seconds=5)


def test_a_users_key_issues_keys_for_that_user_only(client: TestClient) -> None:
    key = client.post("/user/new", headers=ADMIN, json={"user_id": "lee"}).json()["key"]
    mine = client.post("/key/generate", headers=bearer(key), json={"key_alias": "mine"})
    assert mine.status_code == 200 and mine.json()["user_id"] == "lee"
    # The new key works at once, and is Lee's.
    assert client.get("/user/info", headers=bearer(mine.json()["key"])).json()["user_id"] == "lee"


def test_an_expired_key_is_400_as_litellm_answers(client: TestClient) -> None:
    key = client.post("/key/generate", headers=ADMIN, json={"user_id": "u", "duration": "1s"}).json()
    assert client.get("/organization/list", headers=bearer(key["key"])).status_code == 200
    time.sleep(1.05)
    expired = client.get("/organization/list", headers=bearer(key["key"]))
    assert expired.status_code == 400
    error = expired.json()["error"]
    assert error["type"] == "expired_key" and error["code"] == "400"
    assert error["message"].startswith(
        f"Authentication Error - Expired Key. Key Expiry time {key['expires']} and current time ")


def test_key_delete_revokes_by_raw_key_or_token(client: TestClient) -> None:
    one = client.post("/key/generate", headers=ADMIN, json={"user_id": "u"}).json()
    two = client.post("/key/generate", headers=ADMIN, json={"user_id": "u"}).json()
    # The owner deletes one key by value, the other by token.
    deleted = client.post("/key/delete", headers=bearer(one["key"]), json={"keys": [one["key"], two["token"]]})
    assert deleted.status_code == 200 and deleted.json() == {"deleted_keys": [one["key"], two["token"]]}
    for key in (one, two):
        refused = client.get("/organization/list", headers=bearer(key["key"]))
        assert refused.status_code == 401
        assert "Invalid proxy server token passed" in refused.json()["error"]["message"]
    # Deleting them again names keys that no longer exist.
    again = client.post("/key/delete", headers=ADMIN, json={"keys": [one["key"]]})
    assert again.status_code == 404 and again.json() == {"detail": {"error": f"Key not found: token={one['token']}"}}


def test_a_proxy_admin_users_key_acts_as_admin(client: TestClient) -> None:
    key = client.post("/user/new", headers=ADMIN, json={"user_id": "root2", "user_role": "proxy_admin"}).json()["key"]
    created = client.post("/organization/new", headers=bearer(key), json={"organization_alias": "by-root2"})
    assert created.status_code == 200 and created.json()["created_by"] == "root2"
    assert client.post("/user/new", headers=bearer(key), json={}).status_code == 200
