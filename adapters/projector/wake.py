"""Workers wake the SQLite projector the moment they wait for it, through a FIFO in the data folder.

The projector would otherwise notice a commit only at its next look at the log (sqlite_projector.py
looks every few milliseconds): on a command's path that is one more wait between its commit and its
answer. A worker about to wait for the views writes a byte to `projector.wake`; the projector
sleeps in select() on it. A byte no one reads (no projector runs) or a full pipe (it is being woken
anyway) is dropped: the projector's own looks at the log stay the safety net.
"""

from __future__ import annotations

import errno
import os
import select
import threading
from pathlib import Path

WAKE_FILE = "projector.wake"


def _fifo(path: Path) -> None:
    try:
        os.mkfifo(path, 0o600)
    except FileExistsError:
        pass


class WakeListener:
    """The projector's end: `wait` returns when woken or after `timeout` seconds."""

    def __init__(self, folder: Path) -> None:
        path = folder / WAKE_FILE
        _fifo(path)
        # Read and write: the pipe then always has a writer (this one), so select() never reports
        # an end of file when the workers' ends close.
        self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)

    def wait(self, timeout: float) -> None:
        if select.select([self._fd], [], [], timeout)[0]:
            try:
                while os.read(self._fd, 4096):
                    pass
            except BlockingIOError:
                pass

    def close(self) -> None:
        os.close(self._fd)


class WakeSender:
    """A worker's end: `wake` never blocks and never fails."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / WAKE_FILE
        self._fd: int | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            try:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                os.write(self._fd, b"\0")
            except BlockingIOError:
                pass  # the pipe is full of wake-ups not yet read
            except OSError as e:
                # No projector has the pipe open (ENXIO), none ever made it (ENOENT), or the one
                # that had it is gone (EPIPE): open it again next time.
                if self._fd is not None and e.errno == errno.EPIPE:
                    os.close(self._fd)
                    self._fd = None
