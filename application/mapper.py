"""Stores events as msgspec JSON and reads them back as typed events (Structs included)."""

from __future__ import annotations

from typing import Any

import msgspec
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class MsgspecMapper(Mapper):
    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        data = _encoder.encode(state)
        # An event that cannot be read back would stop every projection for good: refuse it
        # here, before it reaches the log, rather than discover it on the next catch-up.
        self._typed(type(domain_event), _decoder.decode(data), originator_id, originator_version)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        try:
            state = self.decode_state(stored_event.state)
        except msgspec.DecodeError as e:
            msg = f"Cannot read event {stored_event.topic} of {stored_event.originator_id}: {e}"
            raise MapperDeserialisationError(msg) from e
        return self._typed(cls, state, stored_event.originator_id, stored_event.originator_version)

    @staticmethod
    def _typed(cls: type, state: dict[str, Any], originator_id: Any, originator_version: int) -> Any:
        state["originator_id"] = originator_id
        state["originator_version"] = originator_version
        from_version = state.pop("class_version", 1)
        # Older versions of an event are upcast step by step to the class's version.
        while from_version < getattr(cls, "class_version", 1):
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        try:
            return msgspec.convert(state, type=cls)
        except msgspec.ValidationError as e:
            msg = f"Cannot read event {get_topic(cls)} of {originator_id}: {e}"
            raise MapperDeserialisationError(msg) from e

    def decode_state(self, data: bytes) -> dict[str, Any]:
        """The stored JSON object of an event, untyped (for audit streaming)."""
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return _decoder.decode(data)
