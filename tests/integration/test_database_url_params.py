"""DATABASE_URL's libpq parameters (sslmode, application_name, ...) against the local PostgreSQL,
which has no TLS: `prefer` and `disable` connect, `require` fails at once and says why."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from orgledger.adapters.persistence.postgres import parse_database_url
from orgledger.adapters.projector.postgres_projector import ProjectorService
from orgledger.adapters.runtime import build_runtime
from orgledger.application.commands import CreateOrg
from orgledger.domain.values import Actor
from tests.postgres import PG_URL, connect, fresh_schema, postgres_settings

pytestmark = pytest.mark.postgres

ORGLEDGER = Path(sys.executable).parent / "orgledger"


def with_params(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in params.items())


@pytest.mark.parametrize("sslmode", ["disable", "prefer"])
def test_sslmode_and_other_parameters_reach_every_connection(tmp_path: Path, sslmode: str) -> None:
    name = f"orgledger-{uuid.uuid4().hex[:12]}"
    with fresh_schema() as schema:
        settings = dataclasses.replace(postgres_settings(schema, tmp_path, "sk-" + "x" * 20),
                                       database_url=with_params(PG_URL, sslmode=sslmode, application_name=name))
        projector = ProjectorService(settings).start()
        runtime = build_runtime(settings)
        try:
            done = runtime.ledger.create_org(CreateOrg(actor=Actor(user_id="ops"), organization_alias="tls"))
            assert runtime.org_after(done, done.organization_ids[0])["organization_alias"] == "tls"
            # The event store's pool, the views' pool and the projector's lock connection all
            # connected with the URL's parameters.
            with connect() as admin:
                rows = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                     (name,)).fetchone()
            assert rows is not None and rows[0] >= 3
        finally:
            runtime.close()
            projector.stop()


def run_cli(*args: str, database_url: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "DATABASE_URL": database_url, "LITELLM_MASTER_KEY": "sk-" + "x" * 20,
           "ORGLEDGER_DATA_DIR": str(tmp_path)}
    started = time.monotonic()
    done = subprocess.run([str(ORGLEDGER), *args], env=env, capture_output=True, text=True, timeout=60)
    return done, time.monotonic() - started


def test_sslmode_require_fails_in_one_line_with_libpqs_reason(tmp_path: Path) -> None:
    url = with_params(PG_URL, sslmode="require")
    done, seconds = run_cli("audit", "log", database_url=url, tmp_path=tmp_path)
    assert done.returncode == 2
    where = parse_database_url(PG_URL)
    assert done.stderr == (f"orgledger: cannot connect to PostgreSQL at {where.host}:{where.port}: "
                           "server does not support SSL, but SSL was required\n")
    assert seconds < 10
    # `serve` refuses the same way before it opens a port.
    done, seconds = run_cli("serve", "--port", "0", database_url=url, tmp_path=tmp_path)
    assert (done.returncode, done.stderr.count("\n")) == (2, 1), done.stderr
    assert "server does not support SSL, but SSL was required" in done.stderr
    assert seconds < 10


def test_an_unknown_role_is_one_line_with_postgresqls_reason(tmp_path: Path) -> None:
    where = parse_database_url(PG_URL)
    url = f"postgresql://no_such_role_{uuid.uuid4().hex[:8]}@{where.host}:{where.port}/{where.dbname}"
    done, seconds = run_cli("projections", "status", database_url=url, tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"orgledger: cannot connect to PostgreSQL at {where.host}:{where.port}: role ")
    assert done.stderr.endswith(" does not exist\n") and done.stderr.count("\n") == 1
    assert seconds < 10
