"""The FIFO by which workers wake the SQLite projector: prompt when one listens, harmless when not."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from orgledger.adapters.projector.wake import WakeListener, WakeSender


def test_a_wake_with_no_projector_listening_is_dropped(tmp_path: Path) -> None:
    sender = WakeSender(tmp_path)
    sender.wake()  # no pipe yet
    WakeListener(tmp_path).close()
    sender.wake()  # a pipe, no reader


def test_the_listener_wakes_at_once_and_drains_what_piled_up(tmp_path: Path) -> None:
    listener = WakeListener(tmp_path)
    sender = WakeSender(tmp_path)
    try:
        for _ in range(100_000):  # more than the pipe holds: the rest are dropped
            sender.wake()
        listener.wait(5)
        started = time.monotonic()
        listener.wait(0.2)  # drained: nothing left to wake it
        assert time.monotonic() - started >= 0.15
        threading.Timer(0.05, sender.wake).start()
        started = time.monotonic()
        listener.wait(5)
        assert time.monotonic() - started < 2
    finally:
        listener.close()


def test_a_sender_finds_a_projector_that_started_again(tmp_path: Path) -> None:
    sender = WakeSender(tmp_path)
    first = WakeListener(tmp_path)
    sender.wake()
    first.close()
    sender.wake()  # its reader is gone
    second = WakeListener(tmp_path)
    try:
        sender.wake()
        started = time.monotonic()
        second.wait(5)
        assert time.monotonic() - started < 2
    finally:
        second.close()
