"""A view transaction's cursor that sends held-back INSERTs with one executemany per statement.

Handlers write most rows with `insert`: the rows of one statement go to the database together
when the batch ends or just before any other statement runs (a read, an UPDATE, a DELETE), so a
statement always sees every write that came before it. Rows of different statements may reach
the database in another order than they were written, which is why `insert` is only for rows
whose order against other held-back rows does not matter (rows of different tables, or of
different keys)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orgledger.projections.store import Cursor


class BatchCursor(Cursor):
    def __init__(self, cur: Cursor) -> None:
        super().__init__(cur.raw, cur.postgres)
        self._held: dict[str, list[Sequence[Any]]] = {}

    def insert(self, statement: str, params: Sequence[Any]) -> None:
        rows = self._held.get(statement)
        if rows is None:
            self._held[statement] = [params]
        else:
            rows.append(params)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Cursor:
        self.flush()
        return super().execute(statement, params)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.flush()
        super().executemany(statement, rows)

    def flush(self) -> None:
        held, self._held = self._held, {}
        for statement, rows in held.items():
            super().executemany(statement, rows)
