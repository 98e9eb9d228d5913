from __future__ import annotations

import json
import logging

import pytest
from starlette.testclient import TestClient

from orgledger.adapters.http.request_log import JsonFormatter
from orgledger.adapters.runtime import Runtime
from tests.conftest import ADMIN, MASTER_KEY


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "orgledger.access"]


def stored_actors(runtime: Runtime) -> list[dict]:  # type: ignore[type-arg]
    notifications = runtime.ledger.recorder.select_notifications(start=1, limit=1000)
    return [runtime.ledger.mapper.decode_state(n.state)["actor"] for n in notifications]


def test_request_id_goes_from_header_to_response_log_and_stored_events(
    client: TestClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="orgledger.access")
    # A request arrives with its id from an upstream proxy.
    response = client.post("/organization/new", json={"organization_alias": "traced"},
                           headers={**ADMIN, "X-Request-ID": "req-7f3a.1"})
    assert response.status_code == 200
    # The id comes back in the response...
    assert response.headers["x-request-id"] == "req-7f3a.1"
    # ...is in the one log line of the request...
    [record] = access_records(caplog)
    assert record.http == {  # type: ignore[attr-defined]
        "method": "POST", "route": "/organization/new", "status": 200,
        "duration_ms": record.http["duration_ms"],  # type: ignore[attr-defined]
        "request_id": "req-7f3a.1", "user_id": "default_user_id",
    }
    assert record.http["duration_ms"] > 0  # type: ignore[attr-defined]
    # ...and on every event the request produced (the organization and its budget).
    actors = stored_actors(runtime)
    assert len(actors) == 2
    assert {a["request_id"] for a in actors} == {"req-7f3a.1"}


def test_a_request_without_an_id_or_with_an_unsafe_one_gets_a_fresh_id(
    client: TestClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="orgledger.access")
    plain = client.post("/organization/new", json={"organization_alias": "a"}, headers=ADMIN)
    # A header that would forge a second log line is not kept.
    forged = client.post("/organization/new", json={"organization_alias": "b"},
                         headers={**ADMIN, "X-Request-ID": "x user_id=admin status=200"})
    ids = [plain.headers["x-request-id"], forged.headers["x-request-id"]]
    assert all(len(i) == 32 for i in ids) and ids[0] != ids[1]
    assert [r.http["request_id"] for r in access_records(caplog)] == ids  # type: ignore[attr-defined]
    assert {a["request_id"] for a in stored_actors(runtime)} == set(ids)


def test_log_lines_name_route_templates_and_never_keys_or_bodies(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="orgledger.access")
    client.post("/organization/new", json={"organization_alias": "secret-alias-123"}, headers=ADMIN)
    client.get("/organization/list", headers={"Authorization": "Bearer sk-wrong-key-456"})
    client.get("/no/such/path/sk-in-path-789")
    text = caplog.text + "".join(JsonFormatter().format(r) for r in access_records(caplog))
    for secret in (MASTER_KEY, "secret-alias-123", "sk-wrong-key-456", "sk-in-path-789"):
        assert secret not in text
    routes = [(r.http["route"], r.http["status"], r.http["user_id"])  # type: ignore[attr-defined]
              for r in access_records(caplog)]
    assert routes == [("/organization/new", 200, "default_user_id"), ("/organization/list", 401, None),
                      ("unmatched", 404, None)]


def test_json_format_is_one_object_per_line(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="orgledger.access")
    client.get("/organization/list", headers={**ADMIN, "X-Request-ID": "abc"})
    [record] = access_records(caplog)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "info" and parsed["logger"] == "orgledger.access"
    assert {k: parsed[k] for k in ("method", "route", "status", "request_id", "user_id")} == {
        "method": "GET", "route": "/organization/list", "status": 200, "request_id": "abc",
        "user_id": "default_user_id",
    }
    assert isinstance(parsed["duration_ms"], float) and parsed["time"].endswith("+00:00")
