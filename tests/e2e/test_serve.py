"""A real `orgledger serve` process: it answers within seconds, stops on SIGTERM, and keeps its data.

(tests/e2e/test_shutdown.py stops it in the middle of a stream of writes, by SIGTERM and by SIGKILL.)
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import MASTER_KEY, orgledger_command, running_server, server_env, stop

pytestmark = pytest.mark.e2e
ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}


def test_sigterm_exits_zero_promptly_and_a_restart_on_the_same_data_dir_has_everything(tmp_path: Path) -> None:
    env = {"ORGLEDGER_DATA_DIR": str(tmp_path / "data")}
    with running_server(env) as server:
        # Under a second on an idle machine; a few on a busy one.
        assert server.startup_seconds < 10
        url, process = server.url, server.process
        # An admin sets up an organization with a member.
        with httpx.Client(base_url=url, headers=ADMIN) as http:
            created = http.post("/organization/new", json={"organization_id": "kept", "organization_alias": "kept"})
            assert created.status_code == 200, created.text
            added = http.post("/organization/member_add",
                              json={"organization_id": "kept", "member": {"user_id": "ann", "role": "org_admin"}})
            assert added.status_code == 200, added.text
            before = http.get("/organization/info", params={"organization_id": "kept"}).json()
        # SIGTERM: a clean exit, promptly.
        stopping = time.monotonic()
        assert stop(process) == 0
        assert time.monotonic() - stopping < 8
    # Restarted on the same data dir, it answers exactly as before.
    with running_server(env) as server:
        after = httpx.get(f"{server.url}/organization/info", params={"organization_id": "kept"}, headers=ADMIN).json()
    assert after == before
    assert [(m["user_id"], m["user_role"]) for m in after["members"]] == [("ann", "org_admin")]


def test_serve_refuses_to_start_without_a_master_key(tmp_path: Path) -> None:
    env = server_env({"ORGLEDGER_DATA_DIR": str(tmp_path)})
    del env["LITELLM_MASTER_KEY"]
    done = subprocess.run([*orgledger_command(), "serve", "--port", "0"], env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert "LITELLM_MASTER_KEY is not set" in done.stderr


def test_the_pure_python_http_stack_serves_the_same_answers(tmp_path: Path) -> None:
    env = {"ORGLEDGER_DATA_DIR": str(tmp_path / "data")}
    with running_server(env, ["--http", "h11", "--loop", "asyncio"]) as server:
        with httpx.Client(base_url=server.url, headers=ADMIN) as http:
            created = http.post("/organization/new", json={"organization_id": "h11", "organization_alias": "plain"})
            assert created.status_code == 200, created.text
            shown = http.get("/organization/info", params={"organization_id": "h11"})
            assert shown.json()["organization_alias"] == "plain"
        assert stop(server.process) == 0


def test_serve_names_the_http_stacks_it_knows(tmp_path: Path) -> None:
    done = subprocess.run([*orgledger_command(), "serve", "--http", "fastest"],
                          env=server_env({"ORGLEDGER_DATA_DIR": str(tmp_path)}), capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert "'auto', 'httptools', 'h11'" in done.stderr
