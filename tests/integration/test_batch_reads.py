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


def test_states_by_topic_equal_the_notifications_of_those_topics(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u-1", "internal_user"), ("u-2", "org_admin"), ("u-3", "org_admin"))
    create(runtime, "org-2")
    recorder = runtime.ledger.recorder
    head = recorder.max_notification_id()
    topics = [n.topic for n in recorder.select_notifications(start=1, limit=100)
              if n.topic.endswith(("MemberAdded", "OrgCreated"))]
    topics = list(dict.fromkeys(topics))
    expected = [(n.id, n.topic, n.state) for n in recorder.select_notifications(
        start=2, limit=3, stop=head - 1, topics=topics, inclusive_of_start=False)]
    assert recorder.select_states(2, head - 1, topics, 3) == expected
    assert len(expected) == 3
    assert recorder.select_states(head, head, topics, 10) == []


def test_log_rows_equal_the_notifications(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u-1", "internal_user"), ("u-2", "org_admin"))
    recorder = runtime.ledger.recorder
    head = recorder.max_notification_id()
    expected = [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
                for n in recorder.select_notifications(start=1, limit=3, stop=head - 1,
                                                       inclusive_of_start=False)]
    assert recorder.select_log(1, head - 1, 3) == expected
    assert len(expected) == 3
    assert recorder.select_log(head, head + 5, 10) == []
