"""The test-suite contract: with CI=true an unreachable PostgreSQL fails its tests; elsewhere they skip."""

from __future__ import annotations

import pytest

from tests import postgres
from tests.e2e.server import free_port


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "PG_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    monkeypatch.setattr(postgres, "_problem", [])


@pytest.mark.usefixtures("unreachable")
def test_unreachable_postgres_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="unreachable .*CI=true requires it"):
        postgres.require_postgres()


@pytest.mark.usefixtures("unreachable")
def test_unreachable_postgres_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL tests skipped"):
        postgres.require_postgres()
