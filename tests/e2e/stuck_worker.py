"""A supervisor and one worker that ignores SIGTERM (as a worker whose event loop is stuck would),
for the supervision test. Run as `python -m tests.e2e.stuck_worker`: the worker prints its pid
once it watches its supervisor."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time

from orgledger.adapters.supervision import follow_supervisor


def worker() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    follow_supervisor()
    print(os.getpid(), flush=True)  # on the supervisor's stdout, which it inherits
    while True:
        time.sleep(1)


def main() -> None:
    multiprocessing.get_context("spawn").Process(target=worker).start()  # as uvicorn starts workers
    sys.stdin.read()  # until the test kills this process


if __name__ == "__main__":
    main()
