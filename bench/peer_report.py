"""orgledger over its peer: the ratios, the issue's targets and the printed table."""

from __future__ import annotations

from typing import Any

from .tables import comparison_row, text_table, verdict

# Commands at least as fast as the CRUD peer; reads half as fast again (they are a view lookup).
TARGETS = {"info": 1.5, "list": 1.5, "new": 1.0, "member_add": 1.0}
PATHS = {"info": "GET /organization/info", "list": "GET /organization/list",
         "new": "POST /organization/new", "member_add": "POST /organization/member_add"}


def with_ratios(measured: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each scenario's two runs with orgledger's throughput over the peer's; None when the peer
    answered nothing, or either side had errors (a fast stream of 4xx proves nothing)."""
    out = {}
    for name, runs in measured.items():
        ours, theirs = runs["orgledger"], runs["peer"]
        clean = not ours["errors"] and not theirs["errors"]
        ratio = round(ours["throughput_rps"] / theirs["throughput_rps"], 3) \
            if clean and theirs["throughput_rps"] else None
        out[name] = {**runs, "ratio": ratio}
    return out


def ratios(peer: dict[str, Any]) -> dict[str, Any]:
    """For results.json's `ratios`, beside the others."""
    return {f"{name} / peer": s["ratio"] for name, s in (peer.get("scenarios") or {}).items()}


def targets(backend: str, peer: dict[str, Any] | None) -> list[dict[str, Any]]:
    """report.targets' rows for the peer step; none when the step was not asked for."""
    if peer is None:
        return []
    scenarios = peer.get("scenarios") or {}
    why = peer.get("skipped") or peer.get("error")
    rows = []
    for name, limit in TARGETS.items():
        target = f"{name} >= {limit}x the CRUD peer"
        ratio = (scenarios.get(name) or {}).get("ratio")
        if ratio is None:
            rows.append({"backend": backend, "target": target, "result": "NOT MEASURED",
                         "why": why or "errors in the run"})
        else:
            rows.append({"backend": backend, "target": target, "value": ratio, "limit": limit,
                         "result": verdict(ratio, limit)})
    return rows


HEADER = ["scenario", "orgledger req/s", "peer req/s", "orgledger/peer", "target", "result",
          "p99 ms (orgledger / peer)"]


def table(peer: dict[str, Any]) -> str:
    if "scenarios" not in peer:
        return f"orgledger vs the CRUD peer: {peer.get('skipped') or peer.get('error')}"
    body = []
    for name, s in peer["scenarios"].items():
        ours, theirs = s["orgledger"], s["peer"]
        errors = f" ({ours['errors']} / {theirs['errors']} errors)" if ours["errors"] or theirs["errors"] else ""
        body.append(comparison_row(PATHS[name], ours, theirs, s["ratio"], TARGETS[name], errors))
    return text_table(f"orgledger vs the CRUD peer (SQLite, one process, {peer['stack']}, "
                      f"{peer['clients']} clients, {peer['seconds']:.0f} s each):", HEADER, body)
