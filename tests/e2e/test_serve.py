"""A real `orgledger serve` process: it answers within seconds, and SIGTERM loses nothing."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import MASTER_KEY, orgledger_command, running_server, server_env, stop

pytestmark = pytest.mark.e2e
ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}


def create_orgs_until_refused(url: str, prefix: str, acknowledged: list[str], refused: list[str]) -> None:
    """Creates organizations one after another; records those answered 200, stops when refused."""
    with httpx.Client(base_url=url, headers=ADMIN, timeout=10) as http:
        for n in range(10_000):
            org_id = f"{prefix}-{n}"
            try:
                response = http.post("/organization/new", json={"organization_id": org_id, "organization_alias": org_id})
            except httpx.TransportError:
                return
            if response.status_code != 200:
                refused.append(f"{org_id}: {response.status_code} {response.text}")
                return
            acknowledged.append(org_id)


def test_sigterm_during_writes_exits_zero_promptly_and_loses_no_acknowledged_write(tmp_path: Path) -> None:
    env = {"ORGLEDGER_DATA_DIR": str(tmp_path / "data")}
    # running_server fails unless the process answers within STARTUP_SECONDS (under a second when idle).
    with running_server(env) as (url, process, _log):
        # An admin sets up an organization with a member.
        with httpx.Client(base_url=url, headers=ADMIN) as http:
            assert http.post("/organization/new", json={"organization_id": "kept", "organization_alias": "kept"}).status_code == 200
            added = http.post("/organization/member_add",
                              json={"organization_id": "kept", "member": {"user_id": "ann", "role": "org_admin"}})
            assert added.status_code == 200, added.text
        # Four clients keep creating organizations while the process is told to stop.
        acknowledged: list[str] = []
        refused: list[str] = []
        writers = [threading.Thread(target=create_orgs_until_refused, args=(url, f"w{i}", acknowledged, refused))
                   for i in range(4)]
        for w in writers:
            w.start()
        while len(acknowledged) < 20 and all(w.is_alive() for w in writers):
            time.sleep(0.01)
        stopping = time.monotonic()
        exit_code = stop(process)
        for w in writers:
            w.join(10)
        assert exit_code == 0
        assert time.monotonic() - stopping < 8, "SIGTERM must stop the server promptly"
        assert refused == []
        assert len(acknowledged) >= 20
    # Restarted on the same data dir, it shows every write it acknowledged.
    with running_server(env) as (url, _process, _log):
        with httpx.Client(base_url=url, headers=ADMIN) as http:
            listed = {o["organization_id"] for o in http.get("/organization/list").json()}
            info = http.get("/organization/info", params={"organization_id": "kept"}).json()
    assert set(acknowledged) | {"kept"} <= listed
    assert [(m["user_id"], m["user_role"]) for m in info["members"]] == [("ann", "org_admin")]


def test_serve_refuses_to_start_without_a_master_key(tmp_path: Path) -> None:
    env = server_env({"ORGLEDGER_DATA_DIR": str(tmp_path)})
    del env["LITELLM_MASTER_KEY"]
    done = subprocess.run([*orgledger_command(), "serve", "--port", "0"], env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert "LITELLM_MASTER_KEY is not set" in done.stderr
