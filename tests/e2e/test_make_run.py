"""`make run`: serves with the development key, and says so loudly, when LITELLM_MASTER_KEY is unset."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port, server_env, wait_until_answering

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_with_the_development_key_and_warns(tmp_path: Path) -> None:
    env = server_env({"PORT": str(free_port()), "ORGLEDGER_DATA_DIR": str(tmp_path / "data")})
    del env["LITELLM_MASTER_KEY"]
    url = f"http://127.0.0.1:{env['PORT']}"
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        # Its own session, so that stopping it reaches make and the server alike.
        make = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # Generous: make reinstalls first when pyproject.toml is newer than the venv.
        wait_until_answering(url, make, timeout=300)
        answer = httpx.get(f"{url}/organization/list", headers={"Authorization": "Bearer sk-1234"})
        assert answer.status_code == 200, answer.text
        # SIGTERM to the server (make's child: the recipe execs it) ends make with the server's exit code.
        (server,) = Path(f"/proc/{make.pid}/task/{make.pid}/children").read_text().split()
        os.kill(int(server), signal.SIGTERM)
        exit_code = make.wait(30)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    output = log.read_text()
    assert "WARNING: LITELLM_MASTER_KEY is not set; using the DEVELOPMENT key 'sk-1234'" in output
    assert f"serving {url}" in output
    assert exit_code == 0, output
    assert (tmp_path / "data" / "events.db").is_file()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_installs_what_serving_needs_and_not_the_test_tools() -> None:
    # --dry-run --always-make: the commands a fresh checkout would run, without running them.
    plan = subprocess.run(["make", "--no-print-directory", "--dry-run", "--always-make", "run"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=True).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs == [".venv/bin/python -m pip install --quiet -e ."]
    assert "[test]" not in plan and "pytest" not in plan
