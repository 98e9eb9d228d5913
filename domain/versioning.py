"""Stored versions of events. The stored JSON of an event is a contract with every event already in
the log: each event class declares its version, and a version raised comes with its upcasters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.domain import CanInitAggregate

A = TypeVar("A", bound=type)


def stored_event_classes(aggregate: type) -> dict[str, type]:
    """The aggregate's own event classes that are stored. The library also defines a base `Event`
    and, when `__init__` names its event (`@event("OrgCreated")`), an unused `Created`."""
    nested = {
        name: value for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, aggregate.Event)  # type: ignore[attr-defined]
        and name != "Event"
    }
    named_creation = any(issubclass(c, CanInitAggregate) for n, c in nested.items() if n != "Created")
    if named_creation:
        nested.pop("Created", None)
    return nested


def event_versions(**versions: int) -> Callable[[A], A]:
    """Give each event of the decorated aggregate its `class_version` (eventsourcing stores it with
    every new event, and reads older versions through `upcast_vN_vM`).

    Every stored event must be listed, so a new event is a decision about the stored contract.
    An event at version N needs, on the aggregate, `upcast_<Event>_v1_v2` ... `upcast_<Event>_vN-1_vN`:
    static methods that change an older event's state dict in place into the next version's.
    """

    def stamp(aggregate: A) -> A:
        events = stored_event_classes(aggregate)
        if set(events) != set(versions):
            raise TypeError(
                f"{aggregate.__name__}: @event_versions must list exactly its events; "
                f"unlisted {sorted(set(events) - set(versions))}, unknown {sorted(set(versions) - set(events))}"
            )
        for name, version in versions.items():
            cls = events[name]
            cls.class_version = version  # type: ignore[attr-defined]
            for older in range(1, version):
                step = f"upcast_{name}_v{older}_v{older + 1}"
                upcaster: Any = vars(aggregate).get(step)
                if not isinstance(upcaster, staticmethod):
                    raise TypeError(f"{aggregate.__name__}.{name} is at version {version}: "
                                    f"it needs the static method {step}")
                setattr(cls, f"upcast_v{older}_v{older + 1}", upcaster)
        return aggregate

    return stamp
