"""A TCP forwarder that a test puts between orgledger and PostgreSQL, to cut and restore the network.

    with TcpForwarder("127.0.0.1", 5432) as forwarder:
        url = forwarder.url(PG_URL)       # DATABASE_URL that goes through the forwarder
        ...
        forwarder.cut("refuse")           # or "blackhole"
        ...
        forwarder.restore()

A cut closes every open connection (or, with `keep_open=True`, leaves them open but moves no more
bytes, as a partitioned network does) and then treats new connections as its mode says:
- "refuse": nothing listens on the port any more; a connect fails at once (ECONNREFUSED).
- "blackhole": connects are accepted and never forwarded: the client waits until its own timeout.
`restore()` forwards again on the same port. The forwarder runs an asyncio loop in a daemon thread,
so synchronous tests and child processes alike can use it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

Mode = Literal["refuse", "blackhole"]
CHUNK = 64 * 1024


class TcpForwarder:
    def __init__(self, target_host: str, target_port: int, listen_host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.listen_host = listen_host
        self.port = port  # 0: a free one, chosen at start()
        self.mode: Mode | None = None  # None while forwarding
        self.accepted = 0  # connections accepted since start, forwarded or not
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-forwarder",
                                        daemon=True)
        self._server: asyncio.Server | None = None
        # Every client connection and, once made, its upstream twin: what a cut closes.
        self._writers: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()
        self._frozen = False
        # (pattern, forward, after): the next client bytes holding `pattern`, on a connection
        # that sent `after` before, end their connection.
        self._tripwire: tuple[bytes, bool, bytes] | None = None
        self._armed: set[int] = set()  # connections that sent the tripwire's `after`
        self._silenced: set[int] = set()  # connections whose server's answers are dropped

    # Control, from any thread.

    def trip_on(self, pattern: bytes, *, forward: bool, after: bytes = b"") -> None:
        """Cut the connection that next sends `pattern` to the server, once it has sent `after`
        (say, an event's topic, then COMMIT): before those bytes reach the server
        (`forward=False`), or after they did, so that the server acts on them but its answer is
        lost (`forward=True`). Once."""
        self._armed.clear()
        self._tripwire = (pattern, forward, after)

    def start(self) -> TcpForwarder:
        self._thread.start()
        self._call(self._listen())
        return self

    def cut(self, mode: Mode = "refuse", *, keep_open: bool = False) -> None:
        """Stop forwarding: open connections are closed (or frozen with `keep_open`), new ones
        refused or blackholed."""
        if mode not in ("refuse", "blackhole"):
            raise ValueError(f"mode must be 'refuse' or 'blackhole', not {mode!r}")
        self._call(self._cut(mode, keep_open))

    def restore(self) -> None:
        """Forward again, on the same port. Connections frozen by the cut stay dead (their peers
        have moved on); connections blackholed by it are closed."""
        self._call(self._restore())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._close_all(close_server=True))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def url(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the forwarder's."""
        parts = urlsplit(database_url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@" if credentials else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}{self.listen_host}:{self.port}"))

    @property
    def open_connections(self) -> int:
        return len(self._writers)

    def __enter__(self) -> TcpForwarder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    # The loop's side.

    async def _listen(self) -> None:
        # SO_REUSEADDR (asyncio's default on Unix) lets restore() bind the port again at once.
        self._server = await asyncio.start_server(self._accept, self.listen_host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self, mode: Mode, keep_open: bool) -> None:
        self.mode = mode
        if keep_open:
            self._frozen = True  # the pumps stop moving bytes; the sockets stay open
        else:
            await self._close_all(close_server=False)
        if mode == "refuse" and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        elif mode == "blackhole" and self._server is None:  # after a "refuse"
            await self._listen()

    async def _restore(self) -> None:
        await self._close_all(close_server=False)  # frozen and blackholed connections
        self.mode = None
        self._frozen = False
        if self._server is None:
            await self._listen()

    async def _close_all(self, *, close_server: bool) -> None:
        if close_server and self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            _abort(writer)
        self._writers.clear()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        self._pumps.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.add(writer)
        if self.mode is not None:  # blackhole: hold the connection, say nothing
            await self._drain_forever(reader)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _abort(writer)
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        pair = (writer, up_writer)
        for source, sink, upstream in ((reader, up_writer, True), (up_reader, writer, False)):
            pump = asyncio.ensure_future(self._pump(source, sink, pair, upstream))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _drain_forever(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(Exception):
            while await reader.read(CHUNK):
                pass

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter,
                    pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter], upstream: bool) -> None:
        try:
            while data := await source.read(CHUNK):
                if self._frozen:
                    continue  # a partition: bytes go nowhere, nobody is told
                if id(pair) in self._silenced:
                    continue  # the answer to the tripping bytes, and anything after it
                if upstream and self._tripwire is not None and self._tripwire[2] in data:
                    self._armed.add(id(pair))
                tripped = (upstream and self._tripwire is not None and id(pair) in self._armed
                           and self._tripwire[0] in data)
                if tripped:
                    forward = self._tripwire[1]  # type: ignore[index]
                    self._tripwire = None
                    if forward:
                        self._silenced.add(id(pair))
                        sink.write(data)
                        await sink.drain()
                        await asyncio.sleep(0.2)  # the server acts; its answer is then lost
                    self._silenced.discard(id(pair))
                    return  # the finally below resets both ends
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if not self._frozen:
                for writer in pair:
                    _abort(writer)
                    self._writers.discard(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once, with a reset rather than a polite FIN, as a failed network or host does."""
    transport = writer.transport
    if transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
