"""MsgspecMapper: events go to JSON and come back typed, Structs included, old versions upcast."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic

from orgledger.application.mapper import MsgspecMapper
from orgledger.domain.budget import Budget
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.user import User
from orgledger.domain.values import Actor, BudgetLimits

ACTOR = Actor(user_id="default_user_id", api_key_hash="f" * 64, request_id="req-1")


@pytest.fixture
def mapper() -> MsgspecMapper:
    return MsgspecMapper(transcoder=JSONTranscoder())


def round_trip(mapper: MsgspecMapper, domain_event: Any) -> Any:
    return mapper.to_domain_event(mapper.to_stored_event(domain_event))


def every_kind_of_event() -> list[Any]:
    org = Organization(organization_id="o", organization_alias="a", budget_id="b", models=["m"],
                       metadata={"k": {"n": 1}}, object_permission=None, actor=ACTOR)
    org.update(actor=ACTOR, metadata={"x": "2"}, object_permission={"mcp_servers": ["s"]}, spend=1.5)
    org.delete(ACTOR)
    budget = Budget.open("b", BudgetLimits(max_budget=2.5, tpm_limit=7, model_max_budget={"m": {"x": 1}}), ACTOR)
    budget.update(BudgetLimits(soft_budget=1.0), ACTOR)
    live = Organization(organization_id="o2", organization_alias="a", budget_id="b", models=[],
                        metadata={}, object_permission=None, actor=ACTOR)
    membership = Membership.join(live, "u", "internal_user", ACTOR)
    membership.change_role("org_admin", ACTOR)
    membership.set_budget("b2", ACTOR)
    membership.remove(ACTOR)
    membership.rejoin(live, "internal_user_viewer", ACTOR)
    user = User.register("u", ACTOR, user_email="u@example.com")
    return [*org.collect_events(), *budget.collect_events(), *membership.collect_events(),
            *user.collect_events()]


def test_every_domain_event_round_trips_with_its_types(mapper: MsgspecMapper) -> None:
    events = every_kind_of_event()
    assert len({type(e) for e in events}) == 11
    for original in events:
        copy = round_trip(mapper, original)
        assert type(copy) is type(original)
        assert copy == original
        # Structs come back as Structs, timestamps as aware datetimes.
        assert isinstance(copy.actor, Actor)
        assert isinstance(copy.timestamp, datetime) and copy.timestamp.tzinfo is not None


def test_value_objects_come_back_typed(mapper: MsgspecMapper) -> None:
    org = Organization(organization_id="o", organization_alias="a", budget_id="b", models=[],
                       metadata={}, object_permission=None, actor=ACTOR)
    org.update(actor=ACTOR, object_permission={"vector_stores": ["v"]})
    budget = Budget.open("b", BudgetLimits(max_budget=20), ACTOR)
    updated = round_trip(mapper, org.collect_events()[-1])
    created = round_trip(mapper, budget.collect_events()[0])
    assert updated.object_permission.vector_stores == ["v"]
    assert isinstance(created.limits, BudgetLimits) and created.limits.max_budget == 20.0


def test_state_is_plain_json_without_the_originator(mapper: MsgspecMapper) -> None:
    stored = mapper.to_stored_event(User.register("u", ACTOR).collect_events()[0])
    state = json.loads(stored.state)
    assert state["actor"] == {"user_id": "default_user_id", "api_key_hash": "f" * 64, "request_id": "req-1"}
    assert "originator_id" not in state and "class_version" not in state
    assert stored.topic == "orgledger.domain.user:User.UserCreated"
    assert mapper.decode_state(stored.state) == state


# An aggregate whose event gained a field in version 2.
class Ticket(Aggregate):
    @event("Opened")
    def __init__(self, title: str, priority: int) -> None:
        self.title = title
        self.priority = priority

    class Opened(Aggregate.Created):
        title: str
        priority: int
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["priority"] = 3


def test_old_versions_are_upcast_and_new_ones_carry_their_version(mapper: MsgspecMapper) -> None:
    new = Ticket(title="t", priority=1).collect_events()[0]
    stored = mapper.to_stored_event(new)
    assert json.loads(stored.state)["class_version"] == 2
    assert round_trip(mapper, new).priority == 1
    # A version 1 event, as it was stored before `priority` existed.
    v1_state = {k: v for k, v in json.loads(stored.state).items() if k not in ("class_version", "priority")}
    v1 = StoredEvent(originator_id=stored.originator_id, originator_version=1,
                     topic=get_topic(Ticket.Opened), state=json.dumps(v1_state).encode())
    upcast = mapper.to_domain_event(v1)
    assert (upcast.title, upcast.priority) == ("t", 3)


def test_an_unreadable_event_is_a_clear_mapper_error(mapper: MsgspecMapper) -> None:
    stored = mapper.to_stored_event(User.register("u", ACTOR).collect_events()[0])
    state = json.loads(stored.state)
    state["models"] = [1]
    broken = StoredEvent(originator_id=stored.originator_id, originator_version=1,
                         topic=stored.topic, state=json.dumps(state).encode())
    with pytest.raises(MapperDeserialisationError, match="UserCreated"):
        mapper.to_domain_event(broken)


def test_an_event_that_could_not_be_read_back_is_never_written(mapper: MsgspecMapper) -> None:
    # A list of models that is not strings would poison every reader of the log.
    org = Organization(organization_id="o", organization_alias="a", budget_id="b", models=[1],  # type: ignore[list-item]
                       metadata={}, object_permission=None, actor=ACTOR)
    with pytest.raises(MapperDeserialisationError):
        mapper.to_stored_event(org.collect_events()[0])
