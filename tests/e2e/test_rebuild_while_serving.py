"""`orgledger projections rebuild --all` in its own process while `orgledger serve` answers
readers and writers: no answer during the rebuild is wrong, and every answer after it is the same."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orgledger.adapters.runtime import build_runtime, projection_classes
from orgledger.application.commands import AddMembers, CreateOrg, NewMember
from orgledger.domain.values import Actor
from tests.conftest import make_settings
from tests.e2e.server import MASTER_KEY, running_server, server_env

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
ORGS, MEMBERS = 30, 30  # 30 x (2 + 2 x 30) = 1860 events


def seed(tmp_path: Path) -> None:
    runtime = build_runtime(make_settings("sqlite", tmp_path))
    actor = Actor(user_id="seeder", api_key_hash="0" * 64)
    for i in range(ORGS):
        runtime.ledger.create_org(CreateOrg(actor=actor, organization_alias=f"org {i}", organization_id=f"o{i}"))
        members = [NewMember(role="internal_user", user_id=f"u{i}-{j}") for j in range(MEMBERS)]
        runtime.ledger.add_members(AddMembers(actor=actor, organization_id=f"o{i}", members=members))
    runtime.close()


@pytest.fixture(params=["1", "2"], ids=["one-worker", "two-workers"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`serve`, whose one process keeps its views; or two workers and the supervisor's projector."""
    seed(tmp_path)
    env = {"ORGLEDGER_DATA_DIR": str(tmp_path / "data")}
    with running_server(env, ["--workers", request.param], startup_timeout=90) as running:
        yield running.url, server_env(env)


READS = [
    ("/organization/info", {"organization_id": "o0"}),
    ("/organization/info", {"organization_id": "o17"}),
    ("/organization/info", {"organization_id": f"o{ORGS - 1}"}),
    ("/audit", {"page": 1, "page_size": 100}),
    ("/audit", {"page": 7, "page_size": 50}),
    ("/audit", {"page": 2, "page_size": 10, "table_name": "LiteLLM_UserTable"}),
    ("/audit", {"object_id": "o3", "page_size": 10}),
]


def answer(client: httpx.Client, path: str, params: dict[str, Any]) -> Any:
    response = client.get(path, params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    # Writers add entries at the end of the log; the pages asked for here stay the same.
    return body["audit_logs"] if path == "/audit" else body


def test_rebuild_while_serving(server: tuple[str, dict[str, str]]) -> None:
    url, env = server
    with httpx.Client(base_url=url, timeout=30) as client:
        before = [answer(client, path, params) for path, params in READS]
        listed = client.get("/organization/list", headers=ADMIN).json()
        assert len(before[0]["members"]) == MEMBERS and len(listed) == ORGS

    stop = threading.Event()
    errors: list[str] = []
    served = [0]

    def reader() -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            while not stop.is_set():
                for (path, params), expected in zip(READS, before, strict=True):
                    got = answer(c, path, params)
                    if got != expected:
                        errors.append(f"{path} {params} changed during the rebuild")
                    served[0] += 1
                page = c.get("/organization/list", headers=ADMIN).json()
                if page[:ORGS] != listed:
                    errors.append("/organization/list changed during the rebuild")

    def writer() -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            i = 0
            while not stop.is_set():
                org = f"w{i}"
                created = c.post("/organization/new", json={"organization_alias": org, "organization_id": org},
                                 headers=ADMIN)
                added = c.post("/organization/member_add", json={"organization_id": org,
                               "member": {"user_id": f"wu{i}", "role": "internal_user"}}, headers=ADMIN)
                shown = c.get("/organization/info", params={"organization_id": org}, headers=ADMIN)
                if (created.status_code, added.status_code, shown.status_code) != (200, 200, 200):
                    errors.append(f"write {org}: {created.text} {added.text} {shown.text}")
                elif [m["user_id"] for m in shown.json()["members"]] != [f"wu{i}"]:
                    errors.append(f"write {org} not visible right after it: {shown.text}")
                served[0] += 3
                i += 1

    def guarded(work: Any) -> Any:
        def run() -> None:
            try:
                work()
            except Exception as e:  # noqa: BLE001 - any failure in a client thread fails the test
                errors.append(repr(e))
        return run

    threads = [threading.Thread(target=guarded(w)) for w in (reader, reader, writer)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    served_before = served[0]
    rebuild = subprocess.run([str(BIN / "orgledger"), "projections", "rebuild", "--all", "--batch-size", "100"],
                             env=env, capture_output=True, text=True, timeout=120)
    served_during = served[0] - served_before
    stop.set()
    for t in threads:
        t.join(timeout=30)

    assert rebuild.returncode == 0, rebuild.stderr
    summaries = rebuild.stdout.splitlines()
    names = [cls.name for cls in projection_classes()]
    assert [s.split(":")[0] for s in summaries] == [f"rebuilt {', '.join(names)}"]
    assert all(" events, " in s and " seconds, " in s and s.endswith(" events/s") for s in summaries)
    assert errors == []
    assert served_during > 20, "the rebuild ended before requests could overlap it"

    with httpx.Client(base_url=url, timeout=30) as client:
        after = [answer(client, path, params) for path, params in READS]
        assert after == before
        assert client.get("/organization/list", headers=ADMIN).json()[:ORGS] == listed
    status = subprocess.run([str(BIN / "orgledger"), "projections", "status"], env=env,
                            capture_output=True, text=True, timeout=60)
    lines = [line.split() for line in status.stdout.splitlines()[1:]]
    assert [(name, lag) for name, _, _, lag in lines] == [(name, "0") for name in names]
