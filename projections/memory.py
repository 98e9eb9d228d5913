"""What a view wrote to its tables, kept by key so that it need not read it back."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Remembered(Generic[K, V]):
    """Values by key, read from the tables on a miss.

    `complete`: every value the tables hold is here, so a miss is `missing` without a read
    (a rebuild's new tables, written by this process alone, until memory is trimmed)."""

    def __init__(self, missing: V) -> None:
        self.missing = missing
        self.items: dict[K, V] = {}
        self.complete = False

    def get(self, key: K, read: Callable[[], V]) -> V:
        try:
            return self.items[key]
        except KeyError:
            value = self.missing if self.complete else read()
            self.items[key] = value
            return value

    def put(self, key: K, value: V) -> None:
        self.items.pop(key, None)  # to the back: trimming drops the least recently written
        self.items[key] = value

    def start_complete(self) -> None:
        self.items.clear()
        self.complete = True

    def forget(self) -> None:
        self.items.clear()
        self.complete = False

    def trim(self, limit: int) -> None:
        """Down to half of `limit` when over it, oldest first; misses are read from then on."""
        if len(self.items) > limit:
            self.items = dict(islice(self.items.items(), len(self.items) - limit // 2, None))
            self.complete = False
