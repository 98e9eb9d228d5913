"""The recorders read many aggregates' events at once, exactly as they read them one by one."""

from __future__ import annotations

from uuid import uuid4

import pytest

from orgledger.adapters.persistence import batch_reads
from orgledger.adapters.runtime import Runtime
from orgledger.domain.user import User

from .helpers import ADMIN, add, create


def test_many_aggregates_in_one_read_equal_each_read_alone(runtime: Runtime,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_reads, "CHUNK", 2)  # several statements on SQLite
    create(runtime, "org-1")
    add(runtime, "org-1", ("u-1", "internal_user"), ("u-2", "org_admin"))
    add(runtime, "org-1", ("e@example.com", "internal_user"), by_email=True)
    recorder = runtime.ledger.recorder
    ids = [User.create_id("u-1"), uuid4(), User.create_id("u-2"), User.create_id("u-1")]
    found = recorder.select_events_of(ids)
    assert set(found) == set(ids)
    for uid in ids:
        assert found[uid] == list(recorder.select_events(uid))
    assert found[ids[1]] == []
    assert recorder.select_events_of([]) == {}
