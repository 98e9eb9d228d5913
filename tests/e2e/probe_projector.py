"""The real projector service plus a probe view that records every position it applies.

Run as `python -m tests.e2e.probe_projector` with orgledger's environment; the probe's table has
the position as its primary key, so an event applied twice fails its batch instead of hiding."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from orgledger.adapters.projector.postgres_projector import ProjectorService
from orgledger.adapters.settings import Settings
from orgledger.projections.base import Projection
from orgledger.projections.store import Cursor


class AppliedPositions(Projection):
    name = "applied_positions"
    table_names = ("applied_positions",)

    def ddl(self) -> list[str]:
        return ["CREATE TABLE IF NOT EXISTS {applied_positions} (position BIGINT PRIMARY KEY)"]

    def apply(self, event: Any, cur: Cursor, position: int) -> None:  # type: ignore[override]
        cur.execute(f"INSERT INTO {self.t['applied_positions']} VALUES (?)", (position,))


def main() -> None:
    service = ProjectorService(Settings.from_env(), extra_projections=[AppliedPositions()])

    def stop(signum: int, frame: FrameType | None) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, stop)
    service.run()


if __name__ == "__main__":
    main()
