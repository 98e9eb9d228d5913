"""`serve --workers N`: each worker accepts on a listening socket of its own (SO_REUSEPORT).

uvicorn binds one socket that every worker accepts from. An idle worker's event loop accepts
every connection waiting at that moment, so a client pool that opens its 16 keep-alive
connections at once often has them all on one worker while the others idle, for as long as
those connections live (about one run in three of `wrk -c16` against two workers, here). With a
socket per worker on the same port, the kernel hashes each new connection to one of them.

A worker that uvicorn starts again (after a crash, or SIGHUP) accepts on every socket, so the
connections hashed to the socket of the worker it replaces are still served.
"""

from __future__ import annotations

import socket
from typing import Any

from uvicorn import Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process


class SpreadWorkers(Multiprocess):
    def init_processes(self) -> None:
        for sock in self.sockets:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)


def run(app: str, **options: Any) -> None:
    """What uvicorn.run does for `workers` > 1, with one socket per worker."""
    config = Config(app, **options)
    SpreadWorkers(config, sockets=_sockets(config)).run()


def _sockets(config: Config) -> list[socket.socket]:
    # uvicorn's own bind first: its errors (a port in use) and its "running on" line, with the
    # port the system chose for --port 0. Bound without SO_REUSEPORT, it also refuses a port
    # that another `serve` shares, which ours would otherwise join.
    probe = config.bind_socket()
    host, port = probe.getsockname()[:2]
    family = probe.family
    probe.close()
    sockets = []
    for _ in range(config.workers):
        sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets
