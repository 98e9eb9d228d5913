"""What every projector service shares: a daemon thread that runs until `stop()`, its state for
readiness, and the backoff between attempts."""

from __future__ import annotations

import threading
from typing import Self

# Seconds between attempts while an event cannot be applied: doubling from the first to the last.
STUCK_BACKOFF = (0.5, 10.0)


class Backoff:
    def __init__(self, first: float, most: float) -> None:
        self.first, self.most = first, most
        self.next = first

    def take(self) -> float:
        delay, self.next = self.next, min(self.next * 2, self.most)
        return delay

    def reset(self) -> None:
        self.next = self.first


class ProjectorThread:
    """Runs `run()` in a daemon thread (what `serve` does) until `stop()`."""

    def __init__(self) -> None:
        self.state = "starting"
        self.active = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._thread = threading.Thread(target=self.run, name="orgledger-projector", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        raise NotImplementedError
