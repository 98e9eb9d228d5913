"""The Idempotency-Key header on commands: a retry with the same key and body gets the first
answer (with `Idempotent-Replayed: true`) and makes no second change; the same key with another
body is a 422. Keys belong to the caller's API key, and are kept with the events."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import msgspec
from starlette.responses import Response

from orgledger.application.idempotency import Claim, IdempotencyKeyInUse, pending_claim
from orgledger.application.ledger import OrgLedger
from orgledger.domain.idempotency import IdempotentRequest

from orgledger.adapters.http.auth import Caller
from orgledger.adapters.http.errors import DetailError
from orgledger.domain.values import Actor

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Answer fields never stored: a raw key is shown once, to the request that created it.
SECRET_FIELDS = ("key",)


def run_idempotent(ledger: OrgLedger, route: str, caller: Caller, actor: Actor, key: str, data: Any,
                   respond: Callable[[], Response]) -> Response:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise DetailError(400, f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters")
    claim = Claim(scope=f"{caller.api_key_hash}:{caller.user_id or ''}", key=key,
                  fingerprint=_fingerprint(route, data), actor=actor)
    if (found := ledger.idempotent_request(claim.scope, key)) is not None:
        return _replay(found, claim)
    token = pending_claim.set(claim)
    try:
        response = respond()
    except IdempotencyKeyInUse:  # a concurrent duplicate committed first
        return _replay(ledger.idempotent_request(claim.scope, key), claim)
    finally:
        pending_claim.reset(token)
    if claim.saved:
        ledger.record_answer(claim, response.status_code, _stored(bytes(response.body)))
    return response


def _fingerprint(route: str, data: Any) -> str:
    canonical = msgspec.json.encode(data, order="sorted")
    return hashlib.sha256(route.encode() + b"\n" + canonical).hexdigest()


def _stored(body: bytes) -> str:
    answer = msgspec.json.decode(body)
    if isinstance(answer, dict):
        answer = {k: (None if k in SECRET_FIELDS else v) for k, v in answer.items()}
    return msgspec.json.encode(answer).decode()


def _replay(found: IdempotentRequest, claim: Claim) -> Response:
    if found.fingerprint != claim.fingerprint:
        raise DetailError(422, f"Idempotency-Key {claim.key!r} was already used for a different request")
    if found.status is None or found.body is None:
        raise DetailError(409, f"A request with Idempotency-Key {claim.key!r} was applied but its answer "
                               "is not recorded yet; retry shortly, or read the current state")
    return Response(found.body.encode(), found.status, {REPLAYED_HEADER: "true"},
                    media_type="application/json")
