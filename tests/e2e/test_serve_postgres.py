"""`orgledger serve` on PostgreSQL: it starts its own projector for its workers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, MASTER_KEY
from tests.e2e import orgledger_processes as processes
from tests.e2e.server import running_server, stop
from tests.postgres import fresh_schema, postgres_settings


@pytest.mark.postgres
@pytest.mark.e2e
def test_serve_starts_its_own_projector_for_its_workers(tmp_path: Path) -> None:
    with fresh_schema() as schema:
        settings = postgres_settings(schema, tmp_path, MASTER_KEY)
        with running_server(processes.settings_env(settings), ["--workers", "2"],
                            startup_timeout=processes.STARTUP_TIMEOUT) as server:
            with httpx.Client(base_url=server.url, headers=ADMIN, timeout=60) as http:
                org_id = http.post("/organization/new", json={"organization_alias": "solo"}).json()[
                    "organization_id"]
                added = http.post("/organization/member_add", json={
                    "organization_id": org_id, "member": {"role": "org_admin", "user_id": "u1"}})
                assert added.status_code == 200, added.text
                info = http.get("/organization/info", params={"organization_id": org_id}).json()
            assert [m["user_id"] for m in info["members"]] == ["u1"]
            assert stop(server.process) == 0, server.log.read_text()
