"""Locks on files in the data folder, for the processes that share one SQLite store.

`flock` locks belong to an open file, not to a process or a thread: the kernel drops them when the
last descriptor of that file closes, which a process that dies (SIGKILL, OOM killer, a crash) does
however it dies. So a lock is never left behind, as PostgreSQL's advisory locks are never left
behind by a session that ends. Two opens of one path conflict even within one process, so a probe
in the process that holds the lock still sees it held.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orgledger.adapters.persistence.data_files import FILE_MODE, tighten


def open_lock_file(path: Path) -> int:
    """A descriptor of `path`, created 0600 (or made 0600, as the data files are)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    tighten(path)
    return fd


class ExclusiveFileLock:
    """Held by one open file at a time, across processes; `try_acquire` never waits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = open_lock_file(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the lock


def is_held(path: Path) -> bool:
    """Whether some open file holds the exclusive lock on `path` (this process's included)."""
    if not path.exists():
        return False
    fd = open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextmanager
def exclusively(path: Path) -> Iterator[None]:
    """Wait for the lock on `path`, hold it for the block."""
    fd = open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
