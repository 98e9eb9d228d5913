"""`orgledger serve` on PostgreSQL: it starts its own projector for its workers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, MASTER_KEY
from tests.e2e import orgledger_processes as processes
from tests.postgres import fresh_schema, postgres_settings


@pytest.mark.postgres
@pytest.mark.e2e
def test_serve_starts_its_own_projector_for_its_workers(tmp_path: Path) -> None:
    with fresh_schema() as schema:
        settings = postgres_settings(schema, tmp_path, MASTER_KEY)
        port, log = processes.free_port(), tmp_path / "serve.log"
        server = processes.start(["serve", "--port", str(port), "--workers", "2"],
                                 processes.settings_env(settings), log)
        base = f"http://127.0.0.1:{port}"
        try:
            processes.wait_ready(base, server, log)
            with httpx.Client(base_url=base, headers=ADMIN, timeout=60) as http:
                org_id = http.post("/organization/new", json={"organization_alias": "solo"}).json()[
                    "organization_id"]
                added = http.post("/organization/member_add", json={
                    "organization_id": org_id, "member": {"role": "org_admin", "user_id": "u1"}})
                assert added.status_code == 200, added.text
                info = http.get("/organization/info", params={"organization_id": org_id}).json()
            assert [m["user_id"] for m in info["members"]] == ["u1"]
        finally:
            processes.stop(server)
        assert server.returncode == 0, log.read_text()
