"""The benchmark's verdicts: a figure that was not fully measured never passes."""

from __future__ import annotations

from typing import Any

from bench import growth, report


NAMES = {"rebuild >=": "rebuild", "rebuild peak RSS": "rebuild rss", "info p99 growth": "growth"}


def verdicts(backend: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = report.targets({"backends": {"sqlite": {"plan": {"big_orgs": 1000, "growth_orgs": [10, 100]},
                                                   **backend}}})
    return {name: t for t in rows for prefix, name in NAMES.items() if t["target"].startswith(prefix)}


def test_a_rebuild_stopped_at_its_budget_fails_with_an_upper_bound() -> None:
    v = verdicts({"raw_decode": {"events_per_s": 40_000.0},
                  "rebuild": {"over_budget": True, "seconds": 50, "events_per_s_below": 30_000.0}})
    assert v["rebuild"]["result"] == "FAIL" and v["rebuild"]["bound"] == "below"
    assert v["rebuild"]["value"] == 0.75  # above the 0.5 limit, yet unproven
    assert v["rebuild rss"]["result"] == "NOT MEASURED"


def test_growth_is_judged_on_the_largest_planned_size_only() -> None:
    def row(orgs: int, p99: float) -> dict[str, Any]:
        m = {"requests": 100, "p50_ms": 1.0, "p90_ms": 1.0, "p99_ms": p99, "max_ms": p99}
        return {"orgs": orgs, "errors": 0, "info": m, "list_filter": m}

    measured = growth.with_ratios([row(10, 2.0), row(100, 2.5), row(1000, 4.0)])
    assert measured[-1]["vs_smallest"]["info"]["p99_ms"] == 2.0
    assert verdicts({"growth": {"rows": measured}})["growth"]["result"] == "FAIL"
    # Without the largest size there is no verdict, only the reason.
    missing = verdicts({"growth": {"rows": measured[:2], "skipped_largest": "views not built"}})
    assert missing["growth"]["result"] == "NOT MEASURED" and missing["growth"]["why"] == "views not built"


def test_results_carry_a_stopped_rebuilds_ratio_only_as_an_upper_bound() -> None:
    r = {"raw_decode": {"events_per_s": 40_000.0, "events_per_cpu_s": 80_000.0},
         "rebuild": {"over_budget": True, "seconds": 50, "events_per_s_below": 20_000.0},
         "audit": {"events_per_s": 30_000.0, "events_per_cpu_s": 40_000.0}}
    assert report.ratios(r) == {"rebuild/decode (upper bound)": 0.5, "audit/decode": 0.75,
                                "audit/decode (CPU time)": 0.5}
