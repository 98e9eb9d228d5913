"""The plain-text tables the comparison steps print: two servers' rates, their ratio and verdict."""

from __future__ import annotations

from typing import Any


def verdict(ratio: float | None, limit: float) -> str:
    return "NOT MEASURED" if ratio is None else ("PASS" if ratio >= limit else "FAIL")


def comparison_row(path: str, first: dict[str, Any], second: dict[str, Any], ratio: float | None,
                   limit: float, note: str = "") -> list[str]:
    """One scenario: both throughputs, the ratio against its target, both p99s."""
    return [path, f"{first['throughput_rps']:,.0f}", f"{second['throughput_rps']:,.0f}",
            "-" if ratio is None else f"{ratio:.2f}x", f">= {limit}x", verdict(ratio, limit),
            f"{first['p99_ms']:.1f} / {second['p99_ms']:.1f}{note}"]


def text_table(title: str, header: list[str], body: list[list[str]]) -> str:
    widths = [max([len(header[i]), *(len(r[i]) for r in body)]) for i in range(len(header))]
    rule = ["-" * w for w in widths]
    rows = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, rule, *body]]
    return "\n".join([title, *rows])
