"""The read cache's own rules: one version for all entries, a bound in bytes, no stale fill."""

from __future__ import annotations

import pytest

from orgledger.adapters.read_cache import ReadCache
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
