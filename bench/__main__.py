"""`make bench`: every hot path against its raw limit, measured in the same run.

Prints a table, PASS/FAIL per target, and writes bench/results.json. It never fails: a
measurement that breaks is reported as an error and the others still run."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import commands, dataset, growth, history, loadgen, reads, report
from .stores import MASTER_KEY, fresh_store, open_runtime, postgres_unsupported

RESULTS = Path(__file__).with_name("results.json")
EVENTS_PER_ORG = 2 + 2 * growth.MEMBERS


@dataclass(frozen=True)
class Plan:
    """Sizes and durations. The defaults fit one backend in about 4 minutes on 2 cores."""

    command_seconds: float = 10.0
    read_seconds: float = 4.0
    growth_seconds: float = 3.0
    clients: int = 16
    big_orgs: int = 100_000  # x 10 events = the 1M-event log
    growth_orgs: tuple[int, ...] = (1_000, 10_000)  # and big_orgs, from the big log
    decode_sample: int = 300_000  # events read for the raw decode rate

    @property
    def big_events(self) -> int:
        return self.big_orgs * EVENTS_PER_ORG


QUICK = Plan(command_seconds=2, read_seconds=1, growth_seconds=1, big_orgs=2_000,
             growth_orgs=(100, 500), decode_sample=20_000)
# With PostgreSQL as well, both backends share the 5-minute budget: the 10 s of load per
# command stays (the minimum), everything else is cut.
SHARED = Plan(command_seconds=10, read_seconds=2, growth_seconds=2, big_orgs=25_000,
              growth_orgs=(1_000, 5_000), decode_sample=100_000)


def guarded(results: dict[str, Any], key: str, step: Callable[[], Any]) -> Any:
    started = time.monotonic()
    print(f"  {key} ...", flush=True)
    try:
        results[key] = step()
    except Exception as e:  # a broken measurement is reported, never fatal
        traceback.print_exc(limit=3)
        results[key] = {"error": f"{type(e).__name__}: {e}"}
    print(f"  {key} done in {time.monotonic() - started:.0f} s", flush=True)
    return results[key]


def run_backend(backend: str, plan: Plan, only: set[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"plan": asdict(plan)}
    http = loadgen.wrk_path() is not None
    if not http:
        results["http_skipped"] = "wrk is not installed: HTTP measurements skipped (apt-get install wrk)"
        print("  " + results["http_skipped"])
    if http and "commands" in only:
        guarded(results, "commands", lambda: commands.measure(backend, plan.command_seconds, plan.clients))
    if http and "reads" in only:
        guarded(results, "reads", lambda: reads.measure(backend, plan.read_seconds, plan.clients))
    if "history" in only or (http and "growth" in only):
        with fresh_store(backend) as big:
            guarded(results, "big_log", lambda: _big_log(big, plan))
            if "history" in only:
                guarded(results, "rebuild", lambda: history.rebuild(big, plan.big_events))
                guarded(results, "audit", lambda: history.audit_replay(big, plan.big_events))
            if http and "growth" in only:
                rows = results.setdefault("growth", [])
                for orgs in plan.growth_orgs:
                    guarded(results, f"growth_{orgs}",
                            lambda orgs=orgs: growth.measure_fresh(backend, orgs, plan.growth_seconds))
                    rows.append(results.pop(f"growth_{orgs}"))
                guarded(results, "growth_big",
                        lambda: growth.measure_store(big, plan.big_orgs, plan.growth_seconds))
                rows.append(results.pop("growth_big"))
    return results


def _big_log(store: Any, plan: Plan) -> dict[str, Any]:
    """The rebuild's log, written straight through the application; also the raw decode rate."""
    runtime = open_runtime(store)
    try:
        started = time.perf_counter()
        written = dataset.generate(runtime.ledger, plan.big_orgs, growth.MEMBERS, MASTER_KEY)
        seconds = time.perf_counter() - started
        page = getattr(runtime.projector, "batch_size", 500)
        decode, decode_cpu = history.raw_decode_rate(
            runtime.ledger, min(plan.decode_sample, written), page)
    finally:
        runtime.close()
    return {"events": written, "orgs": plan.big_orgs, "write_seconds": round(seconds, 1),
            "write_events_per_s": round(written / seconds, 1),
            "raw_decode_per_s": round(decode, 1), "raw_decode_per_cpu_s": round(decode_cpu, 1),
            "decode_page": page}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness only")
    parser.add_argument("--only", default="commands,reads,history,growth",
                        help="comma-separated: commands,reads,history,growth")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--backends", default="sqlite,postgres",
                        help="comma-separated; postgres runs only when DATABASE_URL is usable")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    started = time.monotonic()
    wanted = set(args.backends.split(","))
    backends = ["sqlite"] if "sqlite" in wanted else []
    skipped = postgres_unsupported() if "postgres" in wanted else "not asked for (--backends)"
    if skipped is None:
        backends.append("postgres")
    plan = QUICK if args.quick else (SHARED if len(backends) > 1 else Plan())
    out: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "backends": {},
    }
    print(f"orgledger bench on {out['machine']['summary']}")
    if skipped:
        out["backends"]["postgres"] = {"skipped": skipped}
        print(f"PostgreSQL skipped: {skipped}")
    elif not args.quick:
        print("Running SQLite and PostgreSQL: sizes and read durations are cut to fit 5 minutes.")
    for backend in backends:
        print(f"[{backend}]", flush=True)
        out["backends"][backend] = run_backend(backend, plan, only)
    out["targets"] = report.targets(out)
    out["seconds"] = round(time.monotonic() - started, 1)
    args.output.write_text(json.dumps(out, indent=2) + "\n")
    print()
    print(report.table(out))
    print(f"\nwritten to {args.output} in {out['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:  # the benchmark never fails the build
        traceback.print_exc()
        sys.exit(0)
