"""eventsourcing's save and replay, without asking typing's runtime Protocols what each object is.

`Application.save` asks of every object whether it is a domain event and whether it can collect
events, and the repository asks of every event it replays whether it can mutate: on Python 3.11
each such `isinstance` against a Protocol walks the Protocol's attributes again, about 10 µs, some
6 % of a command's CPU. Here an object with `collect_events` is an aggregate and any other a
bare event, and what the repository replays is an aggregate's events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.persistence import Recording
from eventsourcing.utils import strtobool


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class ReplayingRepository(Repository):
    def get(self, aggregate_id: Any, *, version: int | None = None, projector_func: Any = replay,
            **kwargs: Any) -> Any:
        return super().get(aggregate_id, version=version, projector_func=projector_func, **kwargs)


class DirectSave(Application):
    def save(self, *objs: Any, **kwargs: Any) -> list[Recording]:
        processing_event: ProcessingEvent = ProcessingEvent()
        for obj in objs:
            if obj is None:
                continue
            collect = getattr(obj, "collect_events", None)
            if collect is None:  # a bare event
                processing_event.events.append(obj)
            else:
                processing_event.events.extend(collect())
                processing_event.aggregates[obj.id] = obj
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def construct_repository(self) -> Repository:
        cache_maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return ReplayingRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(cache_maxsize) if cache_maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )
