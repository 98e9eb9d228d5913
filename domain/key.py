"""The Key aggregate: a virtual key, known only by the sha256 of its raw value."""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .errors import InvalidRequestError, KeyNotFoundError
from .ids import key_uuid
from .values import Actor
from .versioning import event_versions

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|mo)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TOKEN = re.compile(r"^[0-9a-f]{64}$")


def token_of(key: str) -> str:
    """The token (sha256 hex) of a raw key; the only form in which a key is kept."""
    return hashlib.sha256(key.encode()).hexdigest()


def token_from_key_or_token(value: str) -> str:
    """Clients name a key by its raw value ("sk-...") or by its token."""
    return value if _TOKEN.match(value) else token_of(value)


def parse_duration(duration: str, now: datetime | None = None) -> timedelta:
    """LiteLLM's key durations: a count and one of s, m, h, d, w or mo ("30s", "10m", "1h", "7d",
    "1mo"). Months are calendar months from `now` (default: this moment, UTC), as LiteLLM counts
    them: the same day and time N months on, or the month's last day when it is shorter."""
    match = _DURATION.match(duration)
    if match is None:
        raise InvalidRequestError(
            f"Invalid duration={duration!r}. Use a number followed by s, m, h, d, w or mo, e.g. '30d'."
        )
    count, unit = int(match.group(1)), match.group(2)
    try:
        if unit == "mo":
            start = now or datetime.now(UTC)
            return add_months(start, count) - start
        return timedelta(seconds=count * _UNIT_SECONDS[unit])
    except (OverflowError, ValueError):
        raise InvalidRequestError(f"Invalid duration={duration!r}: too long") from None


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


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
