"""Whose turn it is to write events.db, among the processes that share it (`serve --workers N`).

SQLite lets one transaction write at a time. One that finds the database locked sleeps and tries
again, 1, 2, 5, 10 ms later and so on, so under two workers' steady writes a batch often slept
milliseconds after the lock was free (2 to 3 ms on average per batch, measured, against under
0.3 ms this way). Writers first take an exclusive `flock` on `write.lock` beside the database:
they queue in the kernel, which wakes the next one the moment the last one is done. The lock is
released with the process that holds it, however it ends. SQLite's own lock still decides who
writes: this only makes the hand-over prompt. Every writer takes this lock before SQLite's, never
after, so the two cannot deadlock; a holder that hangs (SIGSTOP) holds up the others until it
goes on or dies, as a transaction it had begun would.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orgledger.adapters.persistence.file_lock import open_lock_file

LOCK_FILE = "write.lock"


class WriteTurn:
    def __init__(self, db_name: str) -> None:
        # The threads of one process share the file's lock (it belongs to the open file), so
        # they take turns on a thread lock first.
        self._threads = threading.Lock()
        self._fd: int | None = None
        if db_name != ":memory:" and not db_name.startswith("file:"):
            self._fd = open_lock_file(Path(db_name).with_name(LOCK_FILE))
            # The recorder that owns this has no close of its own.
            weakref.finalize(self, os.close, self._fd)

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._threads:
            if self._fd is None:
                yield
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
