"""The Idempotency-Key header: one change per key, the first answer to every retry."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.testclient import TestClient

from orgledger.adapters.runtime import Runtime
from tests.conftest import ADMIN
from tests.http.api import new_org


def _created(runtime: Runtime, topic_end: str) -> int:
    events = runtime.ledger.recorder.select_notifications(start=0, limit=10_000)
    return sum(1 for n in events if n.topic.endswith(topic_end))


def _post(client: TestClient, path: str, body: dict[str, Any], key: str) -> Any:
    return client.post(path, json=body, headers={**ADMIN, "Idempotency-Key": key})


def test_a_retry_with_the_same_key_gets_the_first_answer_and_makes_no_second_change(
    client: TestClient, runtime: Runtime,
) -> None:
    first = _post(client, "/organization/new", {"organization_alias": "acme"}, "retry-1")
    again = _post(client, "/organization/new", {"organization_alias": "acme"}, "retry-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _created(runtime, "OrgCreated") == 1
    # Another key is another request.
    other = _post(client, "/organization/new", {"organization_alias": "acme"}, "retry-2")
    assert other.json()["organization_id"] != first.json()["organization_id"]
    assert _created(runtime, "OrgCreated") == 2


def test_the_same_key_with_another_body_is_422_and_changes_nothing(client: TestClient, runtime: Runtime) -> None:
    org = new_org(client)["organization_id"]
    body = {"organization_id": org, "member": {"user_id": "ann", "role": "internal_user"}}
    assert _post(client, "/organization/member_add", body, "k").status_code == 200
    changed = {**body, "member": {"user_id": "bob", "role": "internal_user"}}
    refused = _post(client, "/organization/member_add", changed, "k")
    assert refused.status_code == 422
    assert "different request" in refused.json()["detail"]["error"]
    assert _created(runtime, "MemberAdded") == 1


def test_a_key_belongs_to_its_api_key(client: TestClient, runtime: Runtime) -> None:
    made = client.post("/key/generate", json={"user_id": "carol"}, headers=ADMIN).json()
    other = {"Authorization": f"Bearer {made['key']}"}
    _post(client, "/organization/new", {"organization_alias": "a"}, "shared")
    # The same key string from another caller is that caller's own request (here refused by RBAC).
    refused = client.post("/organization/new", json={"organization_alias": "a"},
                          headers={**other, "Idempotency-Key": "shared"})
    assert refused.status_code in (400, 401)
    assert "Idempotent-Replayed" not in refused.headers


def test_a_replayed_key_generation_never_shows_the_raw_key_again(client: TestClient) -> None:
    first = _post(client, "/key/generate", {"user_id": "dave"}, "gen")
    again = _post(client, "/key/generate", {"user_id": "dave"}, "gen")
    assert first.json()["key"].startswith("sk-")
    assert again.json()["key"] is None
    assert again.json()["token"] == first.json()["token"]


def test_concurrent_duplicates_make_one_change(client: TestClient, runtime: Runtime) -> None:
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(
            lambda _: _post(client, "/organization/new", {"organization_alias": "race"}, "race"), range(6)))
    assert _created(runtime, "OrgCreated") == 1
    ok = [a for a in answers if a.status_code == 200]
    assert ok and all(a.status_code in (200, 409) for a in answers)
    assert len({a.json()["organization_id"] for a in ok}) == 1


def test_a_refused_request_claims_nothing(client: TestClient) -> None:
    refused = _post(client, "/organization/member_add",
                    {"organization_id": "nope", "member": {"user_id": "x", "role": "internal_user"}}, "k2")
    assert refused.status_code == 404
    org = new_org(client)["organization_id"]
    # The key is still free: the refused request left no record.
    body = {"organization_id": org, "member": {"user_id": "x", "role": "internal_user"}}
    assert _post(client, "/organization/member_add", body, "k2").status_code == 200


def test_a_malformed_key_is_refused(client: TestClient) -> None:
    response = _post(client, "/organization/new", {"organization_alias": "a"}, "x" * 256)
    assert response.status_code == 400
