"""The printed table, the targets (PASS/FAIL, never an exit code) and the machine's description."""

from __future__ import annotations

import os
import platform
import sqlite3
from typing import Any

COMMAND_RATIO = 0.7
INFO_RATIO = 0.6
REBUILD_RATIO = 0.5
REBUILD_RSS_MB = 300
GROWTH_P99 = 1.5


def machine() -> dict[str, Any]:
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count() or 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "cpu": model, "cores": cores, "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "load_at_start": load,
        "summary": f"{cores} x {model}, Python {platform.python_version()}, "
                   f"SQLite {sqlite3.sqlite_version}, load average {load:.1f} at start",
    }


def _get(d: Any, *keys: Any) -> Any:
    for k in keys:
        if isinstance(d, dict):
            d = d.get(k)
        elif isinstance(d, list) and isinstance(k, int) and -len(d) <= k < len(d):
            d = d[k]
        else:
            return None
    return d


def targets(out: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def check(backend: str, name: str, value: Any, limit: float, op: str = ">=") -> None:
        if value is None:
            rows.append({"backend": backend, "target": name, "result": "NOT MEASURED"})
            return
        ok = value >= limit if op == ">=" else value <= limit
        rows.append({"backend": backend, "target": name, "value": value, "limit": limit,
                     "result": "PASS" if ok else "FAIL"})

    for backend, r in out["backends"].items():
        if "skipped" in r:
            continue
        for cmd in ("organization/new", "organization/member_add"):
            check(backend, f"{cmd} >= {COMMAND_RATIO}x raw single-save rate",
                  _get(r, "commands", cmd, "ratio"), COMMAND_RATIO)
        check(backend, f"info >= {INFO_RATIO}x bare Starlette",
              _get(r, "reads", "organization/info", "ratio"), INFO_RATIO)
        rebuild, decode = _get(r, "rebuild", "events_per_s"), _get(r, "big_log", "raw_decode_per_s")
        check(backend, f"rebuild >= {REBUILD_RATIO}x raw decode rate",
              round(rebuild / decode, 3) if rebuild and decode else None, REBUILD_RATIO)
        check(backend, f"rebuild peak RSS <= {REBUILD_RSS_MB} MB",
              _get(r, "rebuild", "peak_rss_mb"), REBUILD_RSS_MB, "<=")
        first, last = _get(r, "growth", 0, "info", "p99_ms"), _get(r, "growth", -1, "info", "p99_ms")
        sizes = f"{_get(r, 'growth', -1, 'orgs')} vs {_get(r, 'growth', 0, 'orgs')} orgs"
        check(backend, f"info p99 growth ({sizes}) <= {GROWTH_P99}x",
              round(last / first, 3) if first and last else None, GROWTH_P99, "<=")
    return rows


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def rows(out: dict[str, Any]) -> list[list[str]]:
    """One row per figure: what, backend, figure, raw limit, ratio, p50, p99, load generator CPU."""
    table: list[list[str]] = []
    for backend, r in out["backends"].items():
        if "skipped" in r:
            table.append([f"({backend} skipped: {r['skipped']})", backend] + [""] * 6)
            continue
        for key in ("commands", "reads", "big_log", "rebuild", "audit"):
            if isinstance(r.get(key), dict) and "error" in r[key]:
                table.append([f"{key}: ERROR {r[key]['error'][:80]}", backend] + [""] * 6)
            if isinstance(r.get(key), dict) and "skipped" in r[key]:
                table.append([f"{key}: skipped, {r[key]['skipped']}", backend] + [""] * 6)
        for cmd, m in (r.get("commands") or {}).items():
            if "ratio" not in m:
                continue
            table.append([f"POST /{cmd} ({m['clients']} clients, {m['seconds']:.0f} s)", backend,
                          f"{_fmt(m['throughput_rps'])} req/s", f"{_fmt(m['raw_saves_per_s'])} saves/s",
                          _fmt(m["ratio"], 2), _fmt(m["p50_ms"], 1), _fmt(m["p99_ms"], 1),
                          f"{m['loadgen_cpu_cores']:.2f}" + (f" ({m['errors']} errors)" if m["errors"] else "")])
        for path, m in (r.get("reads") or {}).items():
            if "ratio" not in m:
                continue
            b = m["bare"]
            table.append([f"GET /{path} ({m['body_bytes']:,} B)", backend,
                          f"{_fmt(m['throughput_rps'])} req/s", f"{_fmt(b['throughput_rps'])} req/s bare",
                          _fmt(m["ratio"], 2), _fmt(m["p50_ms"], 1),
                          f"{_fmt(m['p99_ms'], 1)} (bare {_fmt(b['p99_ms'], 1)})",
                          f"{m['loadgen_cpu_cores']:.2f}" + (f" ({m['errors']} errors)" if m["errors"] else "")])
        big = r.get("big_log") or {}
        rebuild = r.get("rebuild") or {}
        if "events_per_s" in rebuild and "raw_decode_per_s" in big:
            cpu_ratio = rebuild["events_per_cpu_s"] / big["raw_decode_per_cpu_s"]
            table.append([f"rebuild {rebuild['events']:,} events, peak RSS {rebuild['peak_rss_mb']:.0f} MB",
                          backend, f"{_fmt(rebuild['events_per_s'])} ev/s",
                          f"{_fmt(big['raw_decode_per_s'])} ev/s decode",
                          f"{rebuild['events_per_s'] / big['raw_decode_per_s']:.2f} "
                          f"(CPU-time {cpu_ratio:.2f})", "", "", ""])
        audit = r.get("audit") or {}
        if "events_per_s" in audit and "raw_decode_per_s" in big:
            table.append([f"audit log --format jsonl, {audit['events']:,} events", backend,
                          f"{_fmt(audit['events_per_s'])} ev/s",
                          f"{_fmt(big['raw_decode_per_s'])} ev/s decode",
                          _fmt(audit["events_per_s"] / big["raw_decode_per_s"], 2), "", "", ""])
        if "write_events_per_s" in big:
            table.append([f"writing the {big['events']:,}-event log (batched saves)", backend,
                          f"{_fmt(big['write_events_per_s'])} ev/s", "", "", "", "", ""])
        for g in r.get("growth") or []:
            if "info" not in g:
                continue
            table.append([f"growth {g['orgs']:,} orgs: info / list?org_alias (1 client)", backend,
                          f"{_fmt(g['info']['throughput_rps'])} / {_fmt(g['list_filter']['throughput_rps'])} req/s",
                          "", "", f"{_fmt(g['info']['p50_ms'], 2)} / {_fmt(g['list_filter']['p50_ms'], 2)}",
                          f"{_fmt(g['info']['p99_ms'], 2)} / {_fmt(g['list_filter']['p99_ms'], 2)}", ""])
    return table


HEADER = ["measurement", "backend", "figure", "raw limit", "ratio", "p50 ms", "p99 ms", "wrk CPU"]


def table(out: dict[str, Any]) -> str:
    body = rows(out)
    widths = [max(len(HEADER[i]), *(len(r[i]) for r in body)) for i in range(len(HEADER))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    lines.append("")
    for t in out["targets"]:
        value = f"{t['value']} (limit {t['limit']})" if "value" in t else ""
        lines.append(f"{t['result']:<12} [{t['backend']}] {t['target']}: {value}")
    lines += ["", "Markdown (README Performance section):", "", markdown(out)]
    return "\n".join(lines)


def markdown(out: dict[str, Any]) -> str:
    body = rows(out)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
    lines.append("")
    lines += [f"- {t['result']} [{t['backend']}] {t['target']}"
              + (f": {t['value']} (limit {t['limit']})" if "value" in t else "") for t in out["targets"]]
    return "\n".join(lines)
