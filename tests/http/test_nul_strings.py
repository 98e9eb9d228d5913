"""Strings with NUL characters are refused at the edge: PostgreSQL text cannot hold them."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import ADMIN


def test_a_nul_character_in_a_stored_string_is_422_and_writes_nothing(client: TestClient) -> None:
    runtime = client.app.state.runtime
    head = runtime.ledger.recorder.max_notification_id()
    answer = client.post("/organization/new", json={"organization_alias": "a\u0000b"}, headers=ADMIN)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "organization_alias"]
    nested = client.post("/organization/new", json={"organization_alias": "ok", "metadata": {"k": ["x", "\u0000"]}},
                         headers=ADMIN)
    assert nested.status_code == 422
    assert nested.json()["detail"][0]["loc"] == ["body", "metadata", "k", 1]
    assert runtime.ledger.recorder.max_notification_id() == head
