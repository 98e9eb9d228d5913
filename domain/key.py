"""The Key aggregate: a virtual key, known only by the sha256 of its raw value."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .errors import InvalidRequestError, KeyNotFoundError
from .ids import key_uuid
from .values import Actor
from .versioning import event_versions

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TOKEN = re.compile(r"^[0-9a-f]{64}$")


def token_of(key: str) -> str:
    """The token (sha256 hex) of a raw key; the only form in which a key is kept."""
    return hashlib.sha256(key.encode()).hexdigest()


def token_from_key_or_token(value: str) -> str:
    """Clients name a key by its raw value ("sk-...") or by its token."""
    return value if _TOKEN.match(value) else token_of(value)


def parse_duration(duration: str) -> timedelta:
    """LiteLLM's key durations: a count and one of s, m, h, d, w ("30s", "10m", "1h", "7d")."""
    match = _DURATION.match(duration)
    if match is None:
        raise InvalidRequestError(
            f"Invalid duration={duration!r}. Use a number followed by s, m, h, d or w, e.g. '30d'."
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise InvalidRequestError(f"Invalid duration={duration!r}: too long") from None


@event_versions(KeyIssued=1, KeyRevoked=1)
class Key(Aggregate):
    @staticmethod
    def create_id(token: str) -> UUID:
        return key_uuid(token)

    @event("KeyIssued")
    def __init__(
        self,
        token: str,
        user_id: str | None,
        key_alias: str | None,
        models: list[str],
        organization_id: str | None,
        expires: datetime | None,
        actor: Actor,
    ) -> None:
        self.token = token
        self.user_id = user_id
        self.key_alias = key_alias
        self.models = models
        self.organization_id = organization_id
        self.expires = expires
        self.revoked = False

    def revoke(self, actor: Actor) -> None:
        if self.revoked:
            raise KeyNotFoundError(f"Key not found: token={self.token}")
        self._revoked(token=self.token, user_id=self.user_id,
                      organization_id=self.organization_id, actor=actor)

    @event("KeyRevoked")
    def _revoked(self, token: str, user_id: str | None, organization_id: str | None,
                 actor: Actor) -> None:
        self.revoked = True
