"""The read cache's own rules: one version for all entries, a bound in bytes, no stale fill."""

from __future__ import annotations

import threading
import time

import pytest

from orgledger.adapters.http.read_cache import ReadCache, SharedAnswers
from orgledger.adapters.settings import ConfigurationError, Settings


class Views:
    """Stands for the views' version: a number that a write moves on."""

    def __init__(self) -> None:
        self.version = 0

    def __call__(self) -> int:
        return self.version


def test_entries_last_until_the_version_changes() -> None:
    views = Views()
    cache = ReadCache(views)
    assert cache.fetch("k", lambda: b"one") == b"one"
    assert cache.fetch("k", lambda: b"two") == b"one"
    views.version += 1
    assert cache.fetch("k", lambda: b"two") == b"two"
    assert len(cache) == 1


def test_a_value_read_while_the_views_changed_is_not_kept() -> None:
    views = Views()
    cache = ReadCache(views)

    def read_while_another_request_sees_a_write() -> bytes:
        views.version += 1
        assert cache.fetch("other", lambda: b"new") == b"new"
        return b"maybe old"

    assert cache.fetch("k", read_while_another_request_sees_a_write) == b"maybe old"
    assert cache.fetch("k", lambda: b"new") == b"new"


def test_memory_is_bounded_in_bytes() -> None:
    cache = ReadCache(Views(), max_bytes=10_000, max_entry_bytes=4_000)
    for i in range(100):
        cache.fetch(i, lambda: b"x" * 1_000)
    assert len(cache) == 10
    # The most recently used stay.
    assert cache.fetch(99, lambda: b"re-read") == b"x" * 1_000
    # An answer larger than an entry may be is read each time, and evicts nothing.
    cache.fetch("big", lambda: b"x" * 5_000)
    assert cache.fetch("big", lambda: b"again") == b"again"
    assert len(cache) == 10


def test_a_cache_of_no_bytes_keeps_nothing() -> None:
    cache = ReadCache(Views(), max_bytes=0)
    assert cache.fetch("k", lambda: b"one") == b"one"
    assert cache.fetch("k", lambda: b"two") == b"two"
    assert len(cache) == 0


def test_the_cache_size_comes_from_the_environment() -> None:
    assert Settings.from_env({}).read_cache_mb == 32
    assert Settings.from_env({"ORGLEDGER_READ_CACHE_MB": "0"}).read_cache_mb == 0
    for bad in ("-1", "lots", "1.5"):
        with pytest.raises(ConfigurationError, match="ORGLEDGER_READ_CACHE_MB"):
            Settings.from_env({"ORGLEDGER_READ_CACHE_MB": bad})


class SlowViews:
    """A version question that each caller's test holds in flight until it lets it answer."""

    def __init__(self) -> None:
        self.version = 0
        self.asked = 0
        self.in_flight = threading.Event()
        self.go_on = threading.Event()

    def __call__(self) -> int:
        self.asked += 1
        seen = self.version  # what the views show when the question reaches them
        self.in_flight.set()
        assert self.go_on.wait(5)
        return seen


def test_callers_share_a_question_asked_after_they_arrived() -> None:
    views = SlowViews()
    shared = SharedAnswers(views)
    answers: dict[str, int] = {}

    def call(name: str) -> None:
        answers[name] = shared()  # type: ignore[assignment]

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert views.in_flight.wait(5)
    views.in_flight.clear()
    # A write lands after the first question read the views; two readers arrive who have seen it.
    views.version = 1
    later = [threading.Thread(target=call, args=(name,)) for name in ("second", "third")]
    for thread in later:
        thread.start()
    # Both wait behind the first question (waiting on the condition, not merely started).
    deadline = time.monotonic() + 10
    while len(shared._changed._waiters) < 2 and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.005)
    views.go_on.set()
    for thread in (first, *later):
        thread.join(5)
    # The first question's answer predates their arrival: they share one more, which sees the write.
    assert answers == {"first": 0, "second": 1, "third": 1}
    assert views.asked == 2


def test_a_failed_question_is_asked_again_by_the_next_caller() -> None:
    calls = iter([RuntimeError("connection lost"), 7])

    def flaky() -> int:
        result = next(calls)
        if isinstance(result, Exception):
            raise result
        return result

    shared = SharedAnswers(flaky)
    with pytest.raises(RuntimeError):
        shared()
    assert shared() == 7
