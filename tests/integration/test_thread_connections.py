"""SQLite connections kept one per thread: reused by their thread, gone with it."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

from orgledger.adapters.persistence.thread_connections import ThreadConnections


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_thread_reuses_its_connection_and_a_read_inside_a_read_gets_another(tmp_path: Path) -> None:
    pool = ThreadConnections(db_name=str(tmp_path / "t.db"))
    try:
        first = pool.get_connection()
        inner = pool.get_connection()  # while the first is out
        assert inner is not first
        pool.put_connection(inner)
        pool.put_connection(first)
        assert pool.get_connection() is first
        pool.put_connection(first)
    finally:
        pool.close()
    assert first.closed


def test_connections_of_threads_that_ended_are_closed(tmp_path: Path) -> None:
    pool = ThreadConnections(db_name=str(tmp_path / "t.db"))
    try:
        pool.put_connection(pool.get_connection())  # the file and its WAL opened once
        before = open_files()

        def use() -> None:
            conn = pool.get_connection()
            conn.cursor().execute("SELECT 1")
            pool.put_connection(conn)

        for _ in range(30):
            thread = threading.Thread(target=use)
            thread.start()
            thread.join()
        gc.collect()
        assert open_files() <= before + 2  # not one more per thread that came and went
    finally:
        pool.close()
