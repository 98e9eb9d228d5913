"""The README's "Audit and replay" commands, run against a real server; their output must match."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import running_server, server_env

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent
VARYING = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<request id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"), "<time>"),
    (re.compile(r"\d+\.\d\d seconds, \d+ events/s"), "<n> seconds, <n> events/s"),
]


def normalized(text: str, data_dir: Path) -> str:
    # The README shows the default data folder of a user called "you".
    text = text.replace(str(data_dir), "/home/you/.local/share/orgledger")
    for pattern, placeholder in VARYING:
        text = pattern.sub(placeholder, text)
    return text.rstrip()


def session() -> list[tuple[str, str]]:
    """(command, expected output) pairs of the section's console block."""
    section = README.read_text().split("## Audit and replay", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    pairs: list[tuple[str, str]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], ""))
        else:
            command, output = pairs[-1]
            pairs[-1] = (command, output + line + "\n")
    return pairs


def test_readme_audit_session(tmp_path: Path) -> None:
    # As `make run` serves: the development key and the default data folder (under a tmp
    # XDG_DATA_HOME); the commands run in a folder of their own.
    env = {"LITELLM_MASTER_KEY": "sk-1234", "XDG_DATA_HOME": str(tmp_path / "share")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running_server(env, cwd=tmp_path) as server:
        port = server.url.rsplit(":", 1)[1]
        # No LITELLM_MASTER_KEY in the commands' shell: only the check's command line sets it.
        shell_env = {**server_env(env), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        del shell_env["LITELLM_MASTER_KEY"]
        pairs = session()
        assert len(pairs) >= 10
        for command, expected in pairs:
            ran = subprocess.run(["bash", "-c", command.replace("127.0.0.1:4000", f"127.0.0.1:{port}")],
                                 cwd=elsewhere, env=shell_env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=60)
            data_dir = tmp_path / "share" / "orgledger"
            assert normalized(ran.stdout, data_dir) == normalized(expected, data_dir), command
