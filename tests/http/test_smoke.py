from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import ADMIN


def test_new_then_info_shows_the_organization(client: TestClient) -> None:
    # Admin creates an organization.
    created = client.post("/organization/new", json={"organization_alias": "marketing"}, headers=ADMIN)
    assert created.status_code == 200
    org_id = created.json()["organization_id"]
    # Its info answers from the read model.
    info = client.get("/organization/info", params={"organization_id": org_id}, headers=ADMIN)
    assert info.status_code == 200
    assert info.json()["organization_alias"] == "marketing"
    assert info.json()["members"] == [] and info.json()["teams"] == []


def test_a_command_that_loses_every_race_answers_409_and_writes_nothing(client: TestClient) -> None:
    from orgledger.application import retry

    runtime = client.app.state.runtime
    head = runtime.ledger.recorder.max_notification_id()
    saved, attempts = runtime.ledger.save, retry.MAX_ATTEMPTS

    def always_conflicting(*args: object, **kwargs: object) -> None:
        from orgledger.application.append_condition import AppendConditionFailed

        raise AppendConditionFailed("lost the race")

    runtime.ledger.save, retry.MAX_ATTEMPTS = always_conflicting, 2
    try:
        answer = client.post("/organization/new", json={"organization_alias": "x"}, headers=ADMIN)
    finally:
        runtime.ledger.save, retry.MAX_ATTEMPTS = saved, attempts
    assert answer.status_code == 409
    assert "retry" in answer.json()["detail"]["error"]
    assert runtime.ledger.recorder.max_notification_id() == head


def test_commands_run_on_the_servers_worker_threads(client: TestClient) -> None:
    # The blocking part of a command runs on the thread pool the lifespan installs (app.py,
    # WORKER_THREADS), not on the event loop nor on anyio's threads.
    import threading

    runtime = client.app.state.runtime
    threads: list[str] = []
    create_org = runtime.ledger.create_org

    def noting_thread(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return create_org(*args, **kwargs)

    runtime.ledger.create_org = noting_thread
    try:
        answer = client.post("/organization/new", json={"organization_alias": "x"}, headers=ADMIN)
    finally:
        del runtime.ledger.create_org
    assert answer.status_code == 200
    assert len(threads) == 1 and threads[0].startswith("orgledger-worker")
