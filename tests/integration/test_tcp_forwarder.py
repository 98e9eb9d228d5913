"""The test suite's TCP forwarder forwards, refuses, blackholes and restores (against an echo server)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from tests.tcp_forwarder import TcpForwarder


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(4096):
                self.request.sendall(data)
        except ConnectionError:
            pass  # the forwarder's cut resets its side


@pytest.fixture
def forwarder() -> Iterator[TcpForwarder]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with TcpForwarder("127.0.0.1", server.server_address[1]) as f:
            yield f
    finally:
        server.shutdown()
        server.server_close()


def connect(forwarder: TcpForwarder) -> socket.socket:
    return socket.create_connection(("127.0.0.1", forwarder.port), timeout=2)


def echoes(sock: socket.socket, data: bytes = b"ping") -> bool:
    sock.sendall(data)
    return sock.recv(4096) == data


def closed(sock: socket.socket) -> bool:
    """Reset or ended by the other side (a timeout is not an answer)."""
    try:
        sock.sendall(b"x")
        return sock.recv(4096) == b""
    except ConnectionError:
        return True


def test_forwards_until_cut_then_refuses_and_forwards_again_after_restore(forwarder: TcpForwarder) -> None:
    with connect(forwarder) as before:
        assert echoes(before)
        forwarder.cut("refuse")
        assert closed(before)
    with pytest.raises(ConnectionRefusedError):
        connect(forwarder)
    forwarder.restore()
    with connect(forwarder) as after:
        assert echoes(after)


def test_blackhole_accepts_and_never_answers(forwarder: TcpForwarder) -> None:
    with connect(forwarder) as before:
        assert echoes(before)
        forwarder.cut("blackhole")
        assert closed(before)
    with connect(forwarder) as held:
        held.settimeout(0.3)
        held.sendall(b"ping")
        with pytest.raises(TimeoutError):
            held.recv(4096)
    forwarder.restore()
    with connect(forwarder) as after:
        assert echoes(after)


def test_keep_open_freezes_open_connections(forwarder: TcpForwarder) -> None:
    with connect(forwarder) as frozen:
        assert echoes(frozen)
        forwarder.cut("blackhole", keep_open=True)
        frozen.settimeout(0.3)
        frozen.sendall(b"ping")
        with pytest.raises(TimeoutError):
            frozen.recv(4096)
        forwarder.restore()
        with connect(forwarder) as after:
            assert echoes(after)


def test_url_points_at_the_forwarder(forwarder: TcpForwarder) -> None:
    url = forwarder.url("postgresql://user:secret@db.internal:5432/test")
    assert url == f"postgresql://user:secret@127.0.0.1:{forwarder.port}/test"
    assert forwarder.url("postgresql://db/test") == f"postgresql://127.0.0.1:{forwarder.port}/test"


def test_a_blackhole_after_a_refusal_listens_again(forwarder: TcpForwarder) -> None:
    forwarder.cut("refuse")
    forwarder.cut("blackhole")
    with connect(forwarder) as held:
        held.settimeout(0.3)
        with pytest.raises(TimeoutError):
            held.recv(4096)
