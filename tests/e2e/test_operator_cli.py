"""The command line as an operator meets it: --version, `python -m orgledger`, HOST and PORT,
the log level, and errors that are one line naming the cause."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port, orgledger_command, running_server, server_env, stop, wait_until_answering

pytestmark = pytest.mark.e2e


def run(args: list[str], env: Mapping[str, str] | None = None, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=server_env(env), capture_output=True, text=True, timeout=60, **kwargs)  # type: ignore[call-overload,no-any-return]


def test_version_from_the_script_and_from_python_m(tmp_path: Path) -> None:
    expected = f"orgledger {version('orgledger')}\n"
    assert run([*orgledger_command(), "--version"]).stdout == expected
    # `python -m orgledger` is the same command line, from any folder.
    assert run([sys.executable, "-m", "orgledger", "--version"], cwd=tmp_path).stdout == expected
    usage = run([sys.executable, "-m", "orgledger", "audit", "--help"], cwd=tmp_path)
    assert usage.returncode == 0 and usage.stdout.startswith("Usage: orgledger audit ")


def serve_from_env(env: dict[str, str], args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([*orgledger_command(), "serve", *args], env=server_env(env), stdout=out,
                                stderr=subprocess.STDOUT)


def test_host_and_port_come_from_the_environment_and_flags_win(tmp_path: Path) -> None:
    port, other = free_port(), free_port()
    env = {"ORGLEDGER_DATA_DIR": str(tmp_path / "data"), "HOST": "127.0.0.1", "PORT": str(port)}
    log = tmp_path / "serve.log"
    process = serve_from_env(env, [], log)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}", process, 30)
    finally:
        assert stop(process) == 0
    lines = log.read_text().splitlines()
    assert [line.split(" INFO orgledger ", 1)[1] for line in lines if "listening on" in line] == [
        f"listening on http://127.0.0.1:{port}"]
    # --port wins over PORT.
    process = serve_from_env(env, ["--port", str(other)], log)
    try:
        wait_until_answering(f"http://127.0.0.1:{other}", process, 30)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health/liveliness")
    finally:
        assert stop(process) == 0
    assert f"listening on http://127.0.0.1:{other}" in log.read_text()


@pytest.mark.parametrize("variable", ["ORGLEDGER_LOG_LEVEL", "LITELLM_LOG"])
def test_the_log_level_leaves_out_request_lines_at_warning(tmp_path: Path, variable: str) -> None:
    env = {"ORGLEDGER_DATA_DIR": str(tmp_path / "data"), variable: "warning"}
    with running_server(env) as server:
        assert httpx.get(f"{server.url}/organization/list").status_code == 401
    assert stop(server.process) == 0
    output = server.log.read_text()
    assert "orgledger.access" not in output and "listening on" not in output
    # At the default level (INFO) the same request is logged.
    with running_server({"ORGLEDGER_DATA_DIR": str(tmp_path / "data")}) as server:
        httpx.get(f"{server.url}/organization/list")
    assert "orgledger.access GET /organization/list 401" in server.log.read_text()


def test_a_bad_log_level_is_one_line(tmp_path: Path) -> None:
    done = run([*orgledger_command(), "serve"], {"ORGLEDGER_DATA_DIR": str(tmp_path), "ORGLEDGER_LOG_LEVEL": "loud"})
    assert (done.returncode, done.stderr) == (
        2, "orgledger: ORGLEDGER_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'\n")


def test_postgres_that_refuses_connections_is_one_line_within_seconds(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    for args in (["audit", "log"], ["projections", "status"], ["serve"]):
        done = run([*orgledger_command(), *args], {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/test"})
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(f"orgledger: cannot connect to PostgreSQL at 127.0.0.1:{port}: Connection refused")
        assert done.stderr.count("\n") == 1, done.stderr


def test_a_missing_store_is_one_line_naming_where_it_looked(tmp_path: Path) -> None:
    done = run([*orgledger_command(), "audit", "log"], {"ORGLEDGER_DATA_DIR": str(tmp_path / "nowhere")})
    assert done.returncode == 2
    assert done.stderr.startswith(f"orgledger: no event store at {tmp_path / 'nowhere' / 'events.db'}: ")
    assert done.stderr.count("\n") == 1


def test_the_listening_line_comes_once_the_port_is_bound(tmp_path: Path) -> None:
    env = {"ORGLEDGER_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "serve.log"
    # --port 0: the line names the port the system chose, and that port answers.
    process = serve_from_env(env, ["--port", "0"], log)
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"listening on http://127\.0\.0\.1:(\d+)$", log.read_text(), re.M)):
            assert time.monotonic() < deadline and process.poll() is None, log.read_text()
            time.sleep(0.05)
        assert httpx.get(f"http://127.0.0.1:{found.group(1)}/health/liveliness").status_code == 200
        # A port already taken: no listening line, uvicorn's error, and a failed exit.
        taken = serve_from_env(env, ["--port", found.group(1)], tmp_path / "taken.log")
        assert taken.wait(30) != 0
    finally:
        assert stop(process) == 0
    output = (tmp_path / "taken.log").read_text()
    assert "address already in use" in output and "listening on" not in output


def test_a_data_dir_serve_cannot_create_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    done = run([*orgledger_command(), "serve"], {"ORGLEDGER_DATA_DIR": str(tmp_path / "a-file" / "data")})
    assert (done.returncode, done.stderr) == (2, f"orgledger: {tmp_path / 'a-file' / 'data'}: Not a directory\n")


def test_a_store_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "events.db").write_bytes(b"not a database" * 400)
    done = run([*orgledger_command(), "audit", "log"], {"ORGLEDGER_DATA_DIR": str(tmp_path)})
    assert (done.returncode, done.stderr) == (2, f"orgledger: cannot use the SQLite in {tmp_path}: file is not a database\n")


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    from orgledger.adapters.runtime import build_runtime
    from orgledger.adapters.settings import Settings
    from orgledger.application.commands import CreateOrg
    from orgledger.domain.values import Actor

    runtime = build_runtime(Settings(master_key="x", data_dir=tmp_path / "data", backend="sqlite"))
    for i in range(1500):  # well over a pipe's 64 KiB of table lines
        runtime.ledger.create_org(CreateOrg(actor=Actor(user_id="ops"), organization_alias=f"o{i}"))
    runtime.close()
    done = run(["bash", "-c", f"{orgledger_command()[0]} audit log | head -n 1; exit ${{PIPESTATUS[0]}}"],
               {"ORGLEDGER_DATA_DIR": str(tmp_path / "data")})
    assert (done.returncode, done.stdout.split()[0], done.stderr) == (1, "POSITION", "")
