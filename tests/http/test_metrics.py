from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import RecordConflictError
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.application.commands import CreateOrg
from orgledger.application.retry import retry_on_conflict
from orgledger.domain.values import Actor
from tests.conftest import ADMIN, BACKENDS, MASTER_KEY
from tests.integration.helpers import views_left_behind

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, headers: dict[str, str] | None = None) -> Samples:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_show_a_scenarios_requests_commands_and_events(client: TestClient) -> None:
    before = scrape(client)
    # Admin creates an organization, adds a member, and fails to add them twice.
    org = client.post("/organization/new", json={"organization_alias": "ops"}, headers=ADMIN).json()
    member = {"organization_id": org["organization_id"], "member": {"user_id": "u1", "role": "internal_user"}}
    assert client.post("/organization/member_add", json=member, headers=ADMIN).status_code == 200
    assert client.post("/organization/member_add", json=member, headers=ADMIN).status_code == 400
    assert client.get("/organization/info", params={"organization_id": "nope"}, headers=ADMIN).status_code == 404
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Requests by route template, method and status, with their latency.
    assert delta("orgledger_http_requests_total", route="/organization/new", method="POST", status="200") == 1
    assert delta("orgledger_http_requests_total", route="/organization/member_add", method="POST",
                 status="200") == 1
    assert delta("orgledger_http_requests_total", route="/organization/member_add", method="POST",
                 status="400") == 1
    assert delta("orgledger_http_requests_total", route="/organization/info", method="GET", status="404") == 1
    assert delta("orgledger_http_request_duration_seconds_count", route="/organization/new", method="POST",
                 status="200") == 1
    assert delta("orgledger_http_request_duration_seconds_sum", route="/organization/new", method="POST",
                 status="200") > 0
    # Commands by type and outcome.
    assert delta("orgledger_commands_total", command="create_org", outcome="ok") == 1
    assert delta("orgledger_commands_total", command="add_members", outcome="ok") == 1
    assert delta("orgledger_commands_total", command="add_members", outcome="rejected") == 1
    # Events appended by type: the org, its budget, the user and the membership.
    for event_type in ("Organization.OrgCreated", "Budget.BudgetCreated", "User.UserCreated",
                       "Membership.MemberAdded"):
        assert delta("orgledger_events_appended_total", type=event_type) == 1, event_type
    # The views answered the queries, so they are at the head.
    head = value(after, "orgledger_event_log_head_position")
    assert head >= 4
    assert value(after, "orgledger_projection_position", projection="organizations") == head
    assert value(after, "orgledger_projection_lag_events", projection="organizations") == 0
    assert value(after, "orgledger_store_up") == 1


# Only where this process keeps the views: on PostgreSQL a projector applies them in the background.
@pytest.mark.parametrize("settings", BACKENDS, indirect=True)
def test_lag_shows_unapplied_events_and_returns_to_zero_after_catch_up(
    client: TestClient, runtime: Runtime
) -> None:
    # Events are appended without the views catching up (as when a projector process is behind).
    actor = Actor(user_id="ops")
    with views_left_behind(runtime):
        for alias in ("a", "b", "c"):
            runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias=alias))
    behind = scrape(client)
    head = value(behind, "orgledger_event_log_head_position")
    assert value(behind, "orgledger_projection_lag_events", projection="organizations") == 6
    assert value(behind, "orgledger_projection_position", projection="organizations") == head - 6
    # The projections catch up.
    runtime.sync()
    caught_up = scrape(client)
    assert value(caught_up, "orgledger_projection_lag_events", projection="organizations") == 0
    assert value(caught_up, "orgledger_projection_position", projection="organizations") == head


def test_conflict_retries_are_counted_per_command(client: TestClient) -> None:
    attempts = []

    @retry_on_conflict
    def rename_org() -> str:
        # Loses the optimistic-concurrency race twice, then wins.
        attempts.append(1)
        if len(attempts) < 3:
            raise RecordConflictError("concurrent write")
        return "done"

    before = scrape(client)
    assert rename_org() == "done"
    after = scrape(client)
    assert value(after, "orgledger_command_conflict_retries_total", command="rename_org") - value(
        before, "orgledger_command_conflict_retries_total", command="rename_org") == 2
    assert value(after, "orgledger_commands_total", command="rename_org", outcome="ok") - value(
        before, "orgledger_commands_total", command="rename_org", outcome="ok") == 1


@pytest.fixture
def guarded_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(master_key=MASTER_KEY, data_dir=tmp_path / "data", backend="sqlite",
                        metrics_require_auth=True)
    runtime = build_runtime(settings)
    with TestClient(build_app(runtime=runtime)) as c:
        yield c
    runtime.close()


def test_metrics_are_open_by_default(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 200


def test_metrics_need_a_proxy_admin_key_when_required(guarded_client: TestClient) -> None:
    # No key: LiteLLM's 401.
    missing = guarded_client.get("/metrics")
    assert missing.status_code == 401
    assert missing.json()["error"]["message"] == "Authentication Error, No api key passed in."
    assert missing.json()["error"]["code"] == "401"
    # A wrong key: LiteLLM's 401 for an unknown token.
    wrong = guarded_client.get("/metrics", headers={"Authorization": "Bearer sk-not-the-master"})
    assert wrong.status_code == 401
    assert "Invalid proxy server token passed" in wrong.json()["error"]["message"]
    # The master key: the metrics.
    assert value(scrape(guarded_client, ADMIN), "orgledger_store_up") == 1


def test_guarded_metrics_refuse_a_users_key_and_admit_a_proxy_admin_users(guarded_client: TestClient) -> None:
    user = guarded_client.post("/user/new", headers=ADMIN, json={"user_id": "ivy"}).json()["key"]
    admin = guarded_client.post("/user/new", headers=ADMIN, json={"user_role": "proxy_admin"}).json()["key"]
    # A user's own key is refused with LiteLLM's text, their id masked; a proxy_admin user's is not.
    refused = guarded_client.get("/metrics", headers={"Authorization": f"Bearer {user}"})
    assert refused.status_code == 401
    assert refused.json()["error"]["message"].endswith("Route=/metrics. Your role=internal_user. Your user_id=***")
    assert guarded_client.get("/metrics", headers={"Authorization": f"Bearer {admin}"}).status_code == 200
