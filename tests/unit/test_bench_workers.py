"""`serve --workers 2` over `--workers 1`: ratios, verdicts against the issue's 1.4x, the table."""

from __future__ import annotations

from typing import Any

from bench import workers


def run(rps: float, errors: int = 0) -> dict[str, Any]:
    return {"throughput_rps": rps, "errors": errors, "p99_ms": 10.0}


def step(**pairs: tuple[float, float, int]) -> dict[str, Any]:
    scenarios = {name: workers.with_ratio({"workers 1": run(one), "workers 2": run(two, errors)})
                 for name, (one, two, errors) in pairs.items()}
    return {"clients": 16, "seconds": 5.0, "stack": "--http httptools", "scenarios": scenarios}


def test_each_scenario_is_judged_on_two_workers_over_one() -> None:
    measured = step(info=(6000, 9000, 0), new=(600, 800, 0), member_add=(500, 900, 3))
    verdicts = {t["target"].split()[0]: t for t in workers.targets("sqlite", measured)}
    assert {name: t["result"] for name, t in verdicts.items()} == {
        "info": "PASS", "new": "FAIL", "member_add": "NOT MEASURED"}
    assert verdicts["new"]["value"] == 1.333 and verdicts["new"]["limit"] == 1.4
    assert workers.ratios(measured) == {
        "info workers 2 / 1": 1.5, "new workers 2 / 1": 1.333, "member_add workers 2 / 1": None}
    table = workers.table(measured)
    assert "POST /organization/new" in table and "1.33x" in table and "NOT MEASURED" in table


def test_a_step_that_failed_says_why() -> None:
    failed = {"error": "RuntimeError: wrk failed"}
    assert {t["result"] for t in workers.targets("sqlite", failed)} == {"NOT MEASURED"}
    assert "wrk failed" in workers.table(failed)
    assert workers.targets("sqlite", None) == []
