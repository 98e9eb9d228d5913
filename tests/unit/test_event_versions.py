from __future__ import annotations

import importlib
import pkgutil

import pytest
from eventsourcing.domain import Aggregate, event

import orgledger.domain
from orgledger.domain.versioning import event_versions, stored_event_classes


def domain_aggregates() -> list[type[Aggregate]]:
    found = []
    for module in pkgutil.iter_modules(orgledger.domain.__path__):
        namespace = vars(importlib.import_module(f"orgledger.domain.{module.name}"))
        found += [v for v in namespace.values()
                  if isinstance(v, type) and issubclass(v, Aggregate) and v.__module__.startswith("orgledger.")]
    return found


def test_every_stored_event_declares_its_version() -> None:
    events = [cls for agg in domain_aggregates() for cls in stored_event_classes(agg).values()]
    assert len(events) >= 11
    undeclared = [e.__qualname__ for e in events if "class_version" not in vars(e)]
    assert undeclared == [], "declare them with @event_versions (README: Contributing)"


def test_every_raised_version_has_its_chain_of_upcasters() -> None:
    for aggregate in domain_aggregates():
        for cls in stored_event_classes(aggregate).values():
            for older in range(1, cls.class_version):
                assert callable(getattr(cls, f"upcast_v{older}_v{older + 1}")), cls.__qualname__


def test_an_unlisted_event_is_refused_when_the_aggregate_is_defined() -> None:
    with pytest.raises(TypeError, match=r"unlisted \['Renamed'\]"):
        @event_versions(Opened=1)
        class Account(Aggregate):
            @event("Opened")
            def __init__(self, name: str) -> None:
                self.name = name

            @event("Renamed")
            def rename(self, name: str) -> None:
                self.name = name


def test_a_raised_version_without_its_upcaster_is_refused() -> None:
    with pytest.raises(TypeError, match="needs the static method upcast_Opened_v1_v2"):
        @event_versions(Opened=2)
        class Account(Aggregate):
            @event("Opened")
            def __init__(self, name: str, currency: str) -> None:
                self.name = name
