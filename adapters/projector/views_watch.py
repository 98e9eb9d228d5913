"""How far another process's projector has brought views.db, for the commands waiting on it.

A command answers once the views show its write. Each waiting thread asking the database in turn
would cost a query per thread per look and find out late; instead one thread per process looks,
only while commands wait: `PRAGMA data_version` (which changes when another connection commits)
every POLL seconds, and the positions when it changed. It wakes each waiter the moment its
position is shown, and stops after IDLE_EXIT seconds without waiters.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence

from orgledger.projections.projector import LocalProgress

POLL = 0.001
IDLE_EXIT = 5.0


class WatchedViews(LocalProgress):
    def __init__(self, db_name: str, position_keys: Sequence[str],
                 wake_projector: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.wake_projector = wake_projector
        # Projector.wait_for then waits on this object rather than polling the views itself
        # (it still asks them every 50 ms, should this thread fail).
        self.leading = True
        self.db_name = db_name
        self.position_keys = tuple(position_keys)
        self._waiters = 0
        self._wanted = threading.Event()
        self._watching = False

    def wait(self, position: int, timeout: float) -> bool:
        if self.position >= position:
            return True
        self.wake_projector()
        with self._changed:
            if self.position >= position:
                return True
            self._waiters += 1
            self._wanted.set()
            if not self._watching:
                self._watching = True
                threading.Thread(target=self._watch, name="orgledger-views-watch", daemon=True).start()
            try:
                return self._changed.wait_for(lambda: self.position >= position, timeout)
            finally:
                self._waiters -= 1

    def _watch(self) -> None:
        try:
            connection = sqlite3.connect(self.db_name, uri=True, check_same_thread=False,
                                         isolation_level=None)
            try:
                self._look(connection.cursor())
            finally:
                connection.close()
        except BaseException:
            # The next waiter starts another (meanwhile the waiters still ask the views
            # themselves every 50 ms, in Projector.wait_for).
            with self._changed:
                self._watching = False
            raise

    def _look(self, cursor: sqlite3.Cursor) -> None:
        seen = None
        marks = ",".join("?" * len(self.position_keys))
        query = f"SELECT COUNT(*), MIN(position) FROM projection_positions WHERE name IN ({marks})"
        while True:
            if not self._wanted.wait(IDLE_EXIT):
                with self._changed:
                    if not self._waiters:
                        self._watching = False  # before the lock is let go: see wait()
                        return
            version = cursor.execute("PRAGMA data_version").fetchone()[0]
            if version != seen:
                seen = version
                count, least = cursor.execute(query, self.position_keys).fetchone()
                self.advance(least if count == len(self.position_keys) else 0)
            with self._changed:
                if not self._waiters:
                    self._wanted.clear()
            time.sleep(POLL)
