"""The README's curl walk-through, run exactly as written (only the port differs) against `orgledger serve`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import running_server

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
STEPS = ["new", "member_add", "member_update", "info", "list", "member_delete", "delete"]
END = "@@end-of-step@@"


def walkthrough_blocks() -> list[str]:
    text = README.read_text()
    section = text.split("## Walk-through with curl", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def run_walkthrough(base_url: str, cwd: Path) -> list[str]:
    """Runs the blocks in one bash, as a person pasting them would; returns each block's output."""
    port = base_url.rsplit(":", 1)[1]
    steps = [block.replace("127.0.0.1:4000", f"127.0.0.1:{port}") for block in walkthrough_blocks()]
    script = "set -eo pipefail\n" + "".join(f"{step}\nprintf '\\n{END}\\n'\n" for step in steps)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=cwd)
    outputs = [o.strip() for o in done.stdout.split(f"\n{END}\n")]
    assert done.returncode == 0, (
        f"README step {len(outputs)} ({STEPS[len(outputs) - 1]}) failed:\n{done.stdout}\n{done.stderr}"
    )
    assert done.stderr == ""
    return outputs[: len(steps)]


def test_walkthrough_has_the_seven_steps_in_order() -> None:
    endpoints = [re.search(r"/organization/(\w+)", block).group(1) for block in walkthrough_blocks()]  # type: ignore[union-attr]
    assert endpoints == STEPS
    assert all("Bearer sk-1234" in block for block in walkthrough_blocks())


def check_answers(outputs: list[str]) -> None:
    org_id = outputs[0]
    assert re.fullmatch(r"[\w-]+", org_id), outputs[0]
    added, updated, info, listed, removed, deleted = (json.loads(o) for o in outputs[1:])
    # member_add: alice by id, bob by email, each with a membership.
    assert added["organization_id"] == org_id
    roles = {m["user_id"]: m["user_role"] for m in added["updated_organization_memberships"]}
    bob = next(u["user_id"] for u in added["updated_users"] if u["user_email"] == "bob@example.com")
    assert roles == {"alice": "org_admin", bob: "internal_user"}
    # member_update: alice's role changed, and she has a budget inside the organization.
    assert (updated["user_id"], updated["user_role"]) == ("alice", "internal_user")
    assert updated["budget_id"] is not None
    # info: the organization, its budget and both members.
    assert (info["organization_id"], info["organization_alias"]) == (org_id, "acme")
    assert info["litellm_budget_table"]["max_budget"] == 100
    assert {m["user_id"]: m["user_role"] for m in info["members"]} == {"alice": "internal_user", bob: "internal_user"}
    # list: found by alias.
    assert org_id in [o["organization_id"] for o in listed]
    # member_delete: bob's membership, removed.
    assert (removed["user_id"], removed["organization_id"]) == (bob, org_id)
    # delete: the organization as it was, without members.
    assert [(o["organization_id"], o["members"]) for o in deleted] == [(org_id, [])]


def test_readme_walkthrough_works_as_written_and_again(tmp_path: Path) -> None:
    # As `make run` serves: the development key, the default data folder (here under a tmp
    # XDG_DATA_HOME); the steps are pasted in a folder of their own.
    env = {"LITELLM_MASTER_KEY": "sk-1234", "XDG_DATA_HOME": str(tmp_path / "share")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running_server(env, cwd=tmp_path) as server:
        first = run_walkthrough(server.url, elsewhere)
        check_answers(first)
        # A second run on the same data (as after a restart of `make run`) works too.
        second = run_walkthrough(server.url, elsewhere)
        check_answers(second)
        assert second[0] != first[0]
    assert (tmp_path / "share" / "orgledger" / "events.db").is_file()
    assert list(elsewhere.iterdir()) == []
