"""LocalProgress: a waiter is woken when a projector of its process passes its position."""

from __future__ import annotations

import threading

from orgledger.projections.projector import LocalProgress


def test_a_waiter_is_woken_by_an_advance_past_its_position() -> None:
    progress = LocalProgress()
    woken: list[bool] = []
    waiter = threading.Thread(target=lambda: woken.append(progress.wait(5, 10)))
    waiter.start()
    progress.advance(3)
    progress.advance(7)
    waiter.join(10)
    assert woken == [True]


def test_a_wait_times_out_and_positions_never_go_back() -> None:
    progress = LocalProgress()
    progress.advance(4)
    progress.advance(2)
    assert progress.position == 4
    assert not progress.wait(5, 0.01)
    assert progress.wait(4, 0.01)
