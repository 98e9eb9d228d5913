"""BatchCursor: held-back INSERTs reach the database before anything that could see them."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from orgledger.projections.batch import BatchCursor
from orgledger.projections.store import Cursor


def test_held_rows_are_written_before_any_other_statement_and_in_order() -> None:
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.row_factory = sqlite3.Row
        conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
        cur = BatchCursor(Cursor(conn.cursor(), postgres=False))
        upsert = "INSERT INTO t VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
        cur.insert(upsert, ("a", 1))
        cur.insert(upsert, ("a", 2))
        # Nothing is written yet...
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
        # ...but a statement through the cursor sees every held row, applied in order.
        assert cur.execute("SELECT v FROM t WHERE k='a'").one() == {"v": 2}
        cur.insert(upsert, ("b", 3))
        cur.execute("UPDATE t SET v = v + 10")
        assert cur.execute("SELECT k, v FROM t ORDER BY k").all() == [{"k": "a", "v": 12}, {"k": "b", "v": 13}]
        cur.insert(upsert, ("c", 4))
        cur.flush()
        assert conn.execute("SELECT v FROM t WHERE k='c'").fetchone()[0] == 4


def test_a_plain_cursor_writes_at_once() -> None:
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        Cursor(conn.cursor(), postgres=False).insert("INSERT INTO t VALUES (?)", ("a",))
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1
