"""A seeded fuzz run of every endpoint in the OpenAPI document: no answer is ever a 5xx.

Schemathesis draws requests from the document itself, both ones it allows (positive) and ones it
does not (negative: wrong types, missing fields, values past their bounds), and sends them to the
app over real stores, as an admin (the master key) and as nobody. Afterwards the service must
still take an ordinary write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from orgledger.adapters.http.app import build_app
from orgledger.adapters.runtime import Runtime, build_runtime
from starlette.testclient import TestClient
from tests.conftest import ADMIN, backend_settings
from tests.http.api import new_org

EXAMPLES = 15  # per operation, mode and caller: about 15 s in all on each backend
CALLERS = {"admin": ADMIN, "anonymous": {}}


def _server_errors(runtime: Runtime, mode: GenerationMode, headers: dict[str, str]) -> tuple[list[str], int]:
    """The 5xx answers found, and how many operations were fuzzed."""
    app = build_app(runtime=runtime)
    app.state.runtime = runtime  # schemathesis calls the app without running its lifespan
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found: list[str] = []
    fuzzed = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                found.append(f"{operation.label}: {response.status_code} {response.text[:300]!r} "
                             f"for body={case.body!r} query={case.query!r}")

        try:
            check()
            fuzzed += 1
        except Unsatisfiable:
            # Nothing to get wrong: an operation without parameters or body has no negative case.
            assert mode is GenerationMode.NEGATIVE
    return found, fuzzed


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def real_runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    with backend_settings(request.param, tmp_path) as settings:
        runtime = build_runtime(settings)
        yield runtime
        runtime.close()


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("caller", list(CALLERS))
def test_no_fuzzed_request_gets_a_server_error(real_runtime: Runtime, mode: GenerationMode,
                                               caller: str) -> None:
    runtime = real_runtime
    found, fuzzed = _server_errors(runtime, mode, CALLERS[caller])
    assert found == []
    assert fuzzed >= 10  # the organization, user, key and audit operations at least
    # And the service still takes an ordinary write and reads it back.
    with TestClient(build_app(runtime=runtime)) as client:
        org = new_org(client, organization_alias="after the fuzz")
        assert client.get("/organization/info", params={"organization_id": org["organization_id"]},
                          headers=ADMIN).status_code == 200
