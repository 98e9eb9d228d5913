"""Group commit: appends that arrive together are written in one transaction.

A commit costs a disk flush (SQLite) or a round trip and a flush (PostgreSQL); under load most of
a command's time went to waiting its turn for one. Here the first caller to find no write in
progress becomes the writer: it takes every append waiting at that moment and writes them in one
transaction, each in its own savepoint, so that a conflict or a failed append condition undoes
that append only and is raised to its caller only. The appends in a batch are written in the
order they arrived, and each one's condition is checked after the earlier ones' inserts, so it
sees them exactly as it would have seen them committed. Callers that arrive while a batch is
being written wait; when it is done, the first of them writes the next batch, with them all.

Callbacks in `after_commit` run in the writer, after a batch is committed and before its callers
are woken, given the batch's events with their positions: with SQLite in one process, the
projector's catch-up (runtime.py), so the views show the batch once for all of its callers,
instead of sixteen request threads queueing on the projector's lock, each woken in turn to find
there is nothing left to do (12% more commands per second measured, 16 clients).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent


class Append:
    """One caller's append: its events and save arguments, then its outcome."""

    __slots__ = ("events", "kwargs", "ids", "error", "done", "wake")

    def __init__(self, events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> None:
        self.events = events
        self.kwargs = kwargs
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None
        self.done = False
        # Set when the append is written, or when its caller is to write the next batch.
        self.wake = threading.Event()


# Writes a batch in one transaction: sets `ids` or `error` on each append, or raises when the
# transaction as a whole failed (then nothing in it was written).
BatchWriter = Callable[[list[Append]], None]
log = logging.getLogger("orgledger.store")


class GroupCommit:
    def __init__(self, write_batch: BatchWriter) -> None:
        self._write_batch = write_batch
        self._lock = threading.Lock()
        self._waiting: list[Append] = []
        self._writing = False
        self.after_commit: list[Callable[[list[tuple[int, StoredEvent]]], object]] = []

    def append(self, events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> Sequence[int] | None:
        """Write these events (in a batch with whatever else is waiting); their notification ids."""
        mine = Append(events, kwargs)
        with self._lock:
            self._waiting.append(mine)
            writer = not self._writing
            self._writing = True
        if not writer:
            # Each caller waits on its own event: a finished batch wakes its own callers and
            # the one caller that writes next, not everyone waiting.
            mine.wake.wait()
        if not mine.done:
            with self._lock:
                batch, self._waiting = self._waiting, []
            self._write(batch)
        if mine.error is not None:
            raise mine.error
        return mine.ids

    def _write(self, batch: list[Append]) -> None:
        try:
            self._write_batch(batch)
        except BaseException as e:  # the transaction failed: nothing in it was written
            for append in batch:
                append.ids, append.error = None, _own_copy(e)
        else:
            written = [(i, e) for append in batch if append.ids
                       for i, e in zip(append.ids, append.events)]
            if written:
                self._committed(written)
        finally:
            with self._lock:
                for append in batch:
                    append.done = True
                following = self._waiting[0] if self._waiting else None
                self._writing = following is not None
            for append in batch:
                append.wake.set()
            if following is not None:
                following.wake.set()  # not done: its caller writes the next batch

    def _committed(self, written: list[tuple[int, StoredEvent]]) -> None:
        for callback in self.after_commit:
            try:
                callback(written)
            except Exception as e:  # the batch is committed: its callers settle on their own
                log.debug("after the commit: %s", e)


def _own_copy(error: BaseException) -> BaseException:
    """The error for one caller: each thread raises its own instance (a raise writes the
    traceback into the exception), chained to the one the writer caught."""
    try:
        copy = type(error)(*error.args)
    except Exception:  # an exception class with a different constructor
        return error
    copy.__cause__ = error
    return copy
