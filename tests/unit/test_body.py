"""The body reader's two rules that run before decoding: which content types are JSON, and how
deep a body may nest."""

from __future__ import annotations

import time

import pytest

from orgledger.adapters.http.body import MAX_JSON_DEPTH, declares_json, nested_deeper_than

MIB = 1024 * 1024


@pytest.mark.parametrize(("content_type", "is_json"), [
    (None, True), ("", True), ("application/json", True), ("application/json; charset=utf-8", True),
    ("Application/JSON", True), ("application/merge-patch+json", True), ("application/geo+json", True),
    ("application/geo+json-seq", False), ("application/not-really-json", False), ("text/plain", False),
    ("text/json", False), ("application/x-www-form-urlencoded", False), ("multipart/form-data; boundary=x", False),
])
def test_json_content_types_as_fastapi_reads_them(content_type: str | None, is_json: bool) -> None:
    assert declares_json(content_type) is is_json


def test_depth_counts_arrays_and_objects_outside_strings() -> None:
    limit = MAX_JSON_DEPTH
    assert not nested_deeper_than(b"[" * limit + b"]" * limit, limit)
    assert nested_deeper_than(b"[" * (limit + 1) + b"]" * (limit + 1), limit)
    assert nested_deeper_than(b'{"a":' * (limit + 1) + b"1" + b"}" * (limit + 1), limit)
    assert not nested_deeper_than(b'{"a":' * limit + b"1" + b"}" * limit, limit)
    # Brackets in strings, escaped quotes included, do not count.
    assert not nested_deeper_than(b'["' + b"[" * 200 + b'"]', limit)
    assert not nested_deeper_than(b'["\\"' + b"{" * 200 + b'"]', limit)
    assert nested_deeper_than(b'["\\\\",' + b"[" * 70 + b"]" * 70 + b"]", limit)


@pytest.mark.parametrize("body", [
    b'"' + b'\\"' * (MIB // 2),  # one string that never ends, all escapes
    b'"' * MIB,
    b"[]" * (MIB // 2),
    (b"[" * 64 + b"]" * 64) * (MIB // 128),
    b"[" * MIB,
])
def test_the_scan_stays_linear_on_hostile_bodies(body: bytes) -> None:
    started = time.perf_counter()
    nested_deeper_than(body, MAX_JSON_DEPTH)
    assert time.perf_counter() - started < 0.5
