"""SQLite connections kept one per thread, for the event store and the views.

eventsourcing's pool hands out connections under a semaphore, a condition and a writer lock: six
check-outs per command cost about a tenth of a command's CPU, and once more threads asked than
its fifteen connections, a writer queued behind readers and overflow connections were opened and
closed per request (recompiling their statements). Here each thread keeps its own connection
open for as long as the pool lives. SQLite's own locks order the writers (and the group commit
and `write.lock` queue ours before they get there). A thread that asks again while its
connection is out (a read inside another) is served by the ordinary pool, as before. A thread
that ends takes its connection with it (anyio's idle workers end after 10 s, and a new one
would otherwise leave another connection open each time).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool


class ThreadConnections(SQLiteConnectionPool):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._own = threading.local()
        # Weak: the thread's local storage holds each connection, and it goes with the thread.
        self._opened: weakref.WeakSet[SQLiteConnection] = weakref.WeakSet()
        self._opened_lock = threading.Lock()

    def get_connection(self, timeout: float | None = None, *, is_writer: bool | None = None) -> SQLiteConnection:
        if self.is_sqlite_memory_mode or getattr(self._own, "out", False):
            # In memory, readers and writers must exclude each other: the pool does that.
            return super().get_connection(timeout, is_writer=is_writer)
        conn: SQLiteConnection | None = getattr(self._own, "conn", None)
        if conn is None or conn.closed:
            conn = self._create_connection()
            with self._opened_lock:
                if self._closed:
                    conn.close()
                    return super().get_connection(timeout, is_writer=is_writer)  # raises: closed
                self._opened.add(conn)
            self._own.conn = conn
        self._own.out = True
        return conn

    def put_connection(self, conn: SQLiteConnection) -> None:
        if conn is getattr(self._own, "conn", None):
            self._own.out = False
            return
        super().put_connection(conn)

    def close(self) -> None:
        with self._opened_lock:
            opened, self._opened = list(self._opened), weakref.WeakSet()
        for conn in opened:
            conn.close()
        super().close()
