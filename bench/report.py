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
        elif isinstance(d, list | tuple) and isinstance(k, int) and -len(d) <= k < len(d):
            d = d[k]
        else:
            return None
    return d


def _ratio(a: Any, b: Any) -> float | None:
    return round(a / b, 3) if isinstance(a, int | float) and isinstance(b, int | float) and b else None


def rebuild_ratio(r: dict[str, Any], key: str = "rebuild") -> tuple[float | None, bool]:
    """The rebuild's rate over the raw decode rate, and whether that is only an upper bound
    (the rebuild was stopped at its budget)."""
    run, decode = r.get(key) or {}, _get(r, "raw_decode", "events_per_s")
    if run.get("over_budget"):
        return _ratio(run["events_per_s_below"], decode), True
    return _ratio(run.get("events_per_s"), decode), False


def ratios(r: dict[str, Any]) -> dict[str, Any]:
    """Every figure over its raw limit, as the table prints them (for results.json)."""
    decode = r.get("raw_decode") or {}
    out: dict[str, Any] = {name: m["ratio"] for key in ("commands", "reads")
                           for name, m in (r.get(key) or {}).items() if isinstance(m, dict) and "ratio" in m}
    for key in ("rebuild", "audit", "growth_views"):
        run = r.get(key) or {}
        if "events_per_s" in run:
            out[f"{key}/decode"] = _ratio(run["events_per_s"], decode.get("events_per_s"))
            out[f"{key}/decode (CPU time)"] = _ratio(run["events_per_cpu_s"], decode.get("events_per_cpu_s"))
        elif run.get("over_budget"):
            out[f"{key}/decode (upper bound)"] = _ratio(run["events_per_s_below"], decode.get("events_per_s"))
    for row in growth_rows(r):
        out[f"growth {row['orgs']} orgs / {growth_rows(r)[0]['orgs']}"] = row["vs_smallest"]
    return out


def growth_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    rows = _get(r, "growth", "rows")
    return rows if isinstance(rows, list) else []


def targets(out: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def check(backend: str, name: str, value: Any, limit: float, op: str = ">=", *,
              bound: bool = False, why: str | None = None) -> None:
        if value is None:
            rows.append({"backend": backend, "target": name, "result": "NOT MEASURED",
                         **({"why": why} if why else {})})
            return
        ok = value >= limit if op == ">=" else value <= limit
        if bound:  # only "below value" is known: a pass cannot be claimed
            ok = False if op == ">=" else ok
        rows.append({"backend": backend, "target": name, "value": value, "limit": limit,
                     **({"bound": "below"} if bound else {}), "result": "PASS" if ok else "FAIL"})

    for backend, r in out["backends"].items():
        if "skipped" in r:
            continue
        for cmd in ("organization/new", "organization/member_add"):
            check(backend, f"{cmd} >= {COMMAND_RATIO}x raw single-save rate",
                  _get(r, "commands", cmd, "ratio"), COMMAND_RATIO)
        check(backend, f"info >= {INFO_RATIO}x bare Starlette",
              _get(r, "reads", "organization/info", "ratio"), INFO_RATIO)
        ratio, bound = rebuild_ratio(r)
        check(backend, f"rebuild >= {REBUILD_RATIO}x raw decode rate", ratio, REBUILD_RATIO, bound=bound,
              why="stopped at its budget" if bound else None)
        check(backend, f"rebuild peak RSS <= {REBUILD_RSS_MB} MB",
              _get(r, "rebuild", "peak_rss_mb"), REBUILD_RSS_MB, "<=")
        grown = growth_rows(r)
        planned = _get(r, "plan", "big_orgs")
        largest = grown[-1] if grown and grown[-1]["orgs"] == planned else None
        sizes = f"{planned:,} vs {_get(r, 'plan', 'growth_orgs', 0):,} orgs" if planned else "largest vs smallest"
        check(backend, f"info p99 growth ({sizes}) <= {GROWTH_P99}x",
              _get(largest, "vs_smallest", "info", "p99_ms"), GROWTH_P99, "<=",
              why=_get(r, "growth", "skipped_largest") or _get(r, "growth", "error"))
    return rows


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _cpu(m: dict[str, Any]) -> str:
    return f"{m['loadgen_cpu_cores']:.2f}" + (f" ({m['errors']} errors)" if m["errors"] else "")


def rows(out: dict[str, Any]) -> list[list[str]]:
    """One row per figure: what, backend, figure, raw limit, ratio, p50, p90, p99, load generator CPU."""
    table: list[list[str]] = []
    blank = [""] * (len(HEADER) - 2)
    for backend, r in out["backends"].items():
        if "skipped" in r:
            table.append([f"({backend} skipped: {r['skipped']})", backend, *blank])
            continue
        for key in ("commands", "reads", "peer", "big_log", "raw_decode", "rebuild", "audit", "growth_views", "growth"):
            if isinstance(r.get(key), dict) and "error" in r[key]:
                table.append([f"{key}: ERROR {r[key]['error'][:80]}", backend, *blank])
            if isinstance(r.get(key), dict) and "skipped" in r[key]:
                table.append([f"{key}: skipped, {r[key]['skipped']}", backend, *blank])
        for cmd, m in (r.get("commands") or {}).items():
            if not isinstance(m, dict) or "ratio" not in m:
                continue
            table.append([f"POST /{cmd} ({m['clients']} clients, {m['seconds']:.0f} s)", backend,
                          f"{_fmt(m['throughput_rps'])} req/s", f"{_fmt(m['raw_saves_per_s'])} saves/s",
                          _fmt(m["ratio"], 2), _fmt(m["p50_ms"], 1), _fmt(m["p90_ms"], 1),
                          _fmt(m["p99_ms"], 1), _cpu(m)])
        for path, m in (r.get("reads") or {}).items():
            if not isinstance(m, dict) or "ratio" not in m:
                continue
            b = m["bare"]
            table.append([f"GET /{path} ({m['clients']} clients, {m['body_bytes']:,} B)", backend,
                          f"{_fmt(m['throughput_rps'])} req/s", f"{_fmt(b['throughput_rps'])} req/s bare",
                          _fmt(m["ratio"], 2), _fmt(m["p50_ms"], 1), _fmt(m["p90_ms"], 1),
                          f"{_fmt(m['p99_ms'], 1)} (bare {_fmt(b['p99_ms'], 1)})", _cpu(m)])
        big, decode = r.get("big_log") or {}, r.get("raw_decode") or {}
        if "events_per_s" in big:
            table.append([f"writing the {big['events']:,}-event log ({big['seconds']:.0f} s)", backend,
                          f"{_fmt(big['events_per_s'])} ev/s", "", "", "", "", "", ""])
        if "events_per_s" in decode:
            table.append([f"raw decode: select_notifications + mapper, {decode['events']:,} events, "
                          f"pages of {decode['page']}", backend, f"{_fmt(decode['events_per_s'])} ev/s",
                          f"CPU {_fmt(decode['events_per_cpu_s'])} ev/s", "", "", "", "", ""])
        for key, what in (("rebuild", "rebuild"), ("audit", "audit log --format jsonl"),
                          ("growth_views", "rebuild (growth's views)")):
            run = r.get(key) or {}
            if "events_per_s" in run:
                ratio = _ratio(run["events_per_s"], decode.get("events_per_s"))
                cpu = _ratio(run["events_per_cpu_s"], decode.get("events_per_cpu_s"))
                rss = f", peak RSS {run['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in run else ""
                table.append([f"{what}, {run['events']:,} events in {run['seconds']:.0f} s{rss}", backend,
                              f"{_fmt(run['events_per_s'])} ev/s",
                              f"{_fmt(decode['events_per_s'])} ev/s decode" if ratio else "",
                              f"{_fmt(ratio, 2)} (CPU {_fmt(cpu, 2)})" if ratio else "", "", "", "", ""])
            elif run.get("over_budget"):
                ratio = _ratio(run["events_per_s_below"], decode.get("events_per_s"))
                table.append([f"{what}, {run['events']:,} events: stopped at its {run['seconds']:.0f} s budget",
                              backend, f"< {_fmt(run['events_per_s_below'])} ev/s",
                              f"{_fmt(decode['events_per_s'])} ev/s decode" if ratio else "",
                              f"< {_fmt(ratio, 2)}" if ratio else "", "", "", "", ""])
        for orgs, run in (_get(r, "growth", "views") or {}).items():
            if "events_per_s" in run:
                table.append([f"growth {int(orgs):,} orgs: views rebuilt, {run['events']:,} events", backend,
                              f"{run['seconds']:.1f} s", "", "", "", "", "", ""])
        grown = growth_rows(r)
        for g in grown:
            for kind, what in (("info", "info"), ("list_filter", "list?org_alias=")):
                m, vs = g[kind], g["vs_smallest"][kind]
                table.append([f"growth {g['orgs']:,} orgs: {what} (1 client, {m['requests']:,} req)", backend,
                              "", f"{grown[0]['orgs']:,} orgs",
                              " / ".join(_fmt(vs[p], 2) for p in ("p50_ms", "p90_ms", "p99_ms")),
                              _fmt(m["p50_ms"], 2), _fmt(m["p90_ms"], 2), _fmt(m["p99_ms"], 2),
                              f"({g['errors']} errors)" if g["errors"] else ""])
    return table


def steps(out: dict[str, Any]) -> list[str]:
    """How long each step took, so a run over its budget shows where the time went."""
    lines = []
    for backend, r in out["backends"].items():
        timed = [f"{k} {v['step_seconds']:.0f} s" for k, v in r.items()
                 if isinstance(v, dict) and "step_seconds" in v]
        if timed:
            lines.append(f"[{backend}] steps: " + ", ".join(timed))
    return lines


HEADER = ["measurement", "backend", "figure", "raw limit", "ratio (growth: p50 / p90 / p99)", "p50 ms",
          "p90 ms", "p99 ms", "wrk CPU"]


def table(out: dict[str, Any]) -> str:
    body = rows(out)
    widths = [max([len(HEADER[i]), *(len(r[i]) for r in body)]) for i in range(len(HEADER))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    lines.append("")
    lines += steps(out)
    lines.append("")
    lines += [f"{t['result']:<12} [{t['backend']}] {t['target']}: {_target_value(t)}" for t in out["targets"]]
    lines += ["", "Markdown (README Performance section):", "", markdown(out)]
    return "\n".join(lines)


def markdown(out: dict[str, Any]) -> str:
    body = rows(out)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
    lines.append("")
    lines += [f"- {t['result']} [{t['backend']}] {t['target']}: {_target_value(t)}" for t in out["targets"]]
    return "\n".join(lines)


def _target_value(t: dict[str, Any]) -> str:
    if "value" not in t:
        return f"({t['why']})" if t.get("why") else ""
    value = f"< {t['value']}" if t.get("bound") else f"{t['value']}"
    return f"{value} (limit {t['limit']})" + (f", {t['why']}" if t.get("why") else "")
