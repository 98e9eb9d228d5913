"""GroupCommit: who writes, what a batch holds, and whose outcome each caller gets."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from orgledger.adapters.persistence.group_commit import Append, GroupCommit


class Writer:
    """Records each batch; the first one waits until `release` is set, so others queue behind it."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.release = threading.Event()
        self.fail_whole_batch = False

    def __call__(self, batch: list[Append]) -> None:
        self.batches.append([a.kwargs["name"] for a in batch])
        if len(self.batches) == 1:
            self.release.wait(10)
        if self.fail_whole_batch:
            raise ConnectionError("lost the database")
        for n, append in enumerate(batch):
            if append.kwargs["name"] == "refused":
                append.error = ValueError("refused")
            else:
                append.ids = [len(self.batches) * 100 + n]


def run(group: GroupCommit, name: str, outcomes: dict[str, Any]) -> threading.Thread:
    def go() -> None:
        try:
            outcomes[name] = group.append([], {"name": name})
        except Exception as e:
            outcomes[name] = e

    thread = threading.Thread(target=go)
    thread.start()
    return thread


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_appends_arriving_during_a_write_share_the_next_batch() -> None:
    writer = Writer()
    group = GroupCommit(writer)
    outcomes: dict[str, Any] = {}
    threads = [run(group, "first", outcomes)]
    wait_until(lambda: writer.batches)
    threads += [run(group, name, outcomes) for name in ("a", "refused", "c")]
    wait_until(lambda: len(group._waiting) == 3)
    writer.release.set()
    for t in threads:
        t.join(10)
    assert writer.batches[0] == ["first"]
    assert sorted(writer.batches[1]) == ["a", "c", "refused"]
    assert len(writer.batches) == 2
    # Each caller gets its own outcome: the refusal goes to its caller only.
    assert outcomes["first"] == [100]
    assert isinstance(outcomes["refused"], ValueError)
    assert all(isinstance(outcomes[n], list) for n in ("a", "c"))


def test_a_failed_transaction_fails_every_append_in_it_with_its_own_error() -> None:
    writer = Writer()
    writer.fail_whole_batch = True
    writer.release.set()
    group = GroupCommit(writer)
    outcomes: dict[str, Any] = {}
    for t in [run(group, name, outcomes) for name in ("a", "b")]:
        t.join(10)
    assert all(isinstance(outcomes[n], ConnectionError) for n in ("a", "b"))
    # A later append is written: the failed batch left no writer behind.
    writer.fail_whole_batch = False
    assert group.append([], {"name": "later"}) is not None


def test_a_single_caller_writes_its_own_batch() -> None:
    writer = Writer()
    writer.release.set()
    group = GroupCommit(writer)
    assert group.append([], {"name": "alone"}) == [100]
    with pytest.raises(ValueError, match="refused"):
        group.append([], {"name": "refused"})
    assert writer.batches == [["alone"], ["refused"]]
