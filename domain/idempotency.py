"""A request sent with an Idempotency-Key (the IETF draft's header, as in Stripe's API).

Its record is saved in the same atomic save as the change it asked for, so a retry of the same
request finds it and is given the first answer back instead of making the change twice."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .ids import idempotency_uuid
from .values import Actor
from .versioning import event_versions


@event_versions(RequestClaimed=1, RequestAnswered=1)
class IdempotentRequest(Aggregate):
    @staticmethod
    def create_id(scope: str, key: str) -> UUID:
        return idempotency_uuid(scope, key)

    @event("RequestClaimed")
    def __init__(self, scope: str, key: str, fingerprint: str, actor: Actor) -> None:
        self.scope = scope
        self.key = key
        # A digest of the method, path and body: the same key with another request is refused.
        self.fingerprint = fingerprint
        self.status: int | None = None
        self.body: str | None = None

    def answer(self, status: int, body: str, actor: Actor) -> None:
        self._answered(status=status, body=body, actor=actor)

    @event("RequestAnswered")
    def _answered(self, status: int, body: str, actor: Actor) -> None:
        self.status = status
        self.body = body
