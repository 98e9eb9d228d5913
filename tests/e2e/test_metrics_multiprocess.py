"""With --workers > 1 each worker is a process; a scrape answered by any one must count them all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orgledger.adapters.http.metrics import MULTIPROC_ENV, exposition, prepare_multiprocess_dir
from orgledger.adapters.runtime import Runtime

WORKER = """
from orgledger.adapters.http import metrics
metrics.observe_request("/organization/new", "POST", 200, 0.01)
"""


@pytest.mark.parametrize("settings", ["popo"], indirect=True)
def test_a_scrape_sums_the_requests_of_every_worker_process(
    tmp_path: Path, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_999.db").write_bytes(b"left over from an earlier run")
    prepare_multiprocess_dir(shared)
    assert list(shared.iterdir()) == []
    # Two worker processes each answer one request.
    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER], env={**os.environ, MULTIPROC_ENV: str(shared)},
                       check=True)
    # The scrape merges both workers' files.
    monkeypatch.setenv(MULTIPROC_ENV, str(shared))
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition(runtime).decode())
        for s in family.samples
    }
    key = ("orgledger_http_requests_total",
           (("method", "POST"), ("route", "/organization/new"), ("status", "200")))
    assert samples[key] == 2
    assert samples[("orgledger_projection_lag_events", (("projection", "organizations"),))] == 0
