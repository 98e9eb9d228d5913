"""Worker processes of `serve --workers N` end with the process that supervises them.

uvicorn's supervisor passes the listening socket to each worker. If the supervisor is killed
(SIGKILL, OOM killer, a crash), nothing in uvicorn stops its workers: they go on serving the port
without a projector (every command then waits and fails) and a new `serve` cannot bind it. So each
worker watches its supervisor and shuts down when it is gone.

How it notices: multiprocessing's spawn gives every child a pipe whose write end only the parent
holds (`parent_process().sentinel`); the kernel closes it when the parent dies, however it dies,
so the read end becomes readable at once. A thread blocked on it costs nothing and cannot miss
the moment, even if the parent died before the thread started. This works on every POSIX system,
unlike Linux's prctl(PR_SET_PDEATHSIG), which also fires when the parent *thread* that started the
worker ends, and would need ctypes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from multiprocessing.connection import wait

log = logging.getLogger("orgledger.supervision")
# `serve` tells its workers its --graceful-timeout through this variable.
GRACE_ENV = "ORGLEDGER_WORKER_GRACE_SECONDS"
# Beyond the graceful timeout: the lifespan's close of the store and the logs.
CLOSE_SECONDS = 5.0


def follow_supervisor() -> None:
    """In a worker process: shut down gracefully once the supervisor is gone. A no-op in a process
    that multiprocessing did not start (`serve` with one worker, tests)."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    grace = float(os.environ.get(GRACE_ENV, "10")) + CLOSE_SECONDS
    threading.Thread(target=_stop_when_gone, args=(parent.sentinel, parent.pid, grace),
                     name="orgledger-supervisor-watch", daemon=True).start()


def _stop_when_gone(sentinel: int, parent_pid: int | None, grace: float) -> None:
    wait([sentinel])
    log.warning("supervisor (pid %s) is gone: this worker stops accepting, finishes its requests "
                "and exits", parent_pid)
    # uvicorn's own SIGTERM handling: close the listening socket, drain, run the lifespan's close.
    os.kill(os.getpid(), signal.SIGTERM)
    # A worker whose event loop is stuck would never act on the signal: it must not keep the port.
    threading.Event().wait(grace)
    log.error("worker did not stop within %.0f s of its supervisor's death: exiting now", grace)
    logging.shutdown()
    os._exit(1)
