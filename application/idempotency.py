"""Idempotency keys: a retried request gets the first answer, and the change happens once.

The adapter looks the key up before running a command and, if it is new, sets `pending_claim`:
the ledger then saves the claim together with the command's events (the store refuses a second
claim of the same key, so concurrent duplicates cannot both commit), and the adapter records the
answer once it has made it."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from orgledger.domain.idempotency import IdempotentRequest
from orgledger.domain.values import Actor


class IdempotencyKeyInUse(Exception):
    """Another request with this key was committed (or is being) since it was looked up."""


@dataclass
class Claim:
    scope: str
    key: str
    fingerprint: str
    actor: Actor
    saved: bool = False

    def record(self) -> IdempotentRequest:
        return IdempotentRequest(scope=self.scope, key=self.key, fingerprint=self.fingerprint,
                                 actor=self.actor)


# The claim of the request this thread serves, saved with the first save of its command.
pending_claim: ContextVar[Claim | None] = ContextVar("pending_claim", default=None)


class IdempotentRequests:
    """Mixed into OrgLedger: its repository and `save`."""

    repository: Any
    save: Any

    def idempotent_request(self, scope: str, key: str) -> IdempotentRequest | None:
        try:
            return self.repository.get(IdempotentRequest.create_id(scope, key))  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            return None

    def with_claim(self, aggregates: tuple[Any, ...]) -> tuple[Any, ...]:
        """The aggregates to save, with the pending claim's record if it is not saved yet."""
        claim = pending_claim.get()
        if claim is None or claim.saved:
            return aggregates
        if IdempotentRequest.create_id(claim.scope, claim.key) in self.repository:
            raise IdempotencyKeyInUse(claim.key)
        return (*aggregates, claim.record())  # a new record each attempt: a failed save spent the last

    def record_answer(self, claim: Claim, status: int, body: str) -> None:
        request = self.repository.get(IdempotentRequest.create_id(claim.scope, claim.key))
        request.answer(status, body, claim.actor)
        self.save(request)
