"""Child process for the rebuild while the build has no `projections rebuild` command:
opens the store and brings freshly created, empty view tables up to the head of the log."""

from __future__ import annotations

import json
import time

from orgledger.adapters.runtime import build_runtime
from orgledger.adapters.settings import Settings


def main() -> None:
    runtime = build_runtime(Settings.from_env(), catch_up=False)
    started = time.perf_counter()
    runtime.projector.catch_up()
    seconds = time.perf_counter() - started
    head = runtime.ledger.recorder.max_notification_id() or 0
    positions = runtime.projector.positions()
    runtime.close()
    print(json.dumps({"seconds": seconds, "head": head, "positions": positions}))


if __name__ == "__main__":
    main()
