"""orgledger over the CRUD peer: ratios, verdicts and the printed table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import peer, peer_report


def run(rps: float, errors: int = 0) -> dict[str, Any]:
    return {"throughput_rps": rps, "errors": errors, "p99_ms": 10.0}


def measured(**pairs: tuple[float, float]) -> dict[str, dict[str, Any]]:
    return {name: {"orgledger": run(ours), "peer": run(theirs)} for name, (ours, theirs) in pairs.items()}


def step(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"clients": 16, "seconds": 2.0, "stack": "--http httptools", "scenarios": scenarios}


def test_each_target_is_judged_on_orgledger_over_the_peer() -> None:
    scenarios = peer_report.with_ratios(measured(
        info=(3000, 2000), list=(2900, 2000), new=(1000, 1000), member_add=(999, 1000)))
    verdicts = {t["target"].split()[0]: t for t in peer_report.targets("sqlite", step(scenarios))}
    assert {name: t["result"] for name, t in verdicts.items()} == {
        "info": "PASS", "list": "FAIL", "new": "PASS", "member_add": "FAIL"}
    assert verdicts["list"]["value"] == 1.45 and verdicts["list"]["limit"] == 1.5
    assert peer_report.ratios(step(scenarios)) == {
        "info / peer": 1.5, "list / peer": 1.45, "new / peer": 1.0, "member_add / peer": 0.999}


def test_a_run_with_errors_gives_no_ratio_and_no_pass() -> None:
    scenarios = peer_report.with_ratios({"new": {"orgledger": run(9000, errors=5), "peer": run(1000)}})
    assert scenarios["new"]["ratio"] is None
    verdicts = {t["target"].split()[0]: t["result"] for t in peer_report.targets("sqlite", step(scenarios))}
    assert verdicts == {"info": "NOT MEASURED", "list": "NOT MEASURED", "new": "NOT MEASURED",
                        "member_add": "NOT MEASURED"}
    assert "NOT MEASURED" in peer_report.table(step(scenarios))


def test_a_skipped_step_says_why_and_a_step_not_asked_for_adds_no_target() -> None:
    skipped = {"skipped": "the peer is missing"}
    rows = peer_report.targets("sqlite", skipped)
    assert {r["result"] for r in rows} == {"NOT MEASURED"} and rows[0]["why"] == "the peer is missing"
    assert peer_report.table(skipped).endswith("the peer is missing")
    assert peer_report.targets("sqlite", None) == []


def test_the_table_prints_both_rates_and_the_ratio() -> None:
    text = peer_report.table(step(peer_report.with_ratios(measured(info=(4114, 2239)))))
    line = next(ln for ln in text.splitlines() if ln.startswith("GET /organization/info"))
    assert line.split()[2:7] == ["4,114", "2,239", "1.84x", ">=", "1.5x"] and "PASS" in line


def test_the_peer_is_found_above_the_checkout_or_where_bench_peers_dir_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_PEERS_DIR", str(tmp_path))
    assert peer.peers_dir() is None
    (tmp_path / "crud_baseline.py").write_text("")
    assert peer.peers_dir() == tmp_path
