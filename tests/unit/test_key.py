from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orgledger.domain.errors import InvalidRequestError, KeyNotFoundError
from orgledger.domain.key import Key, parse_duration, token_from_key_or_token, token_of
from orgledger.domain.values import Actor

ADMIN = Actor(user_id="default_user_id")


def issued() -> Key:
    return Key(token=token_of("sk-abc"), user_id="u-1", key_alias="ci", models=["gpt-4"],
               organization_id="org-1", expires=None, actor=ADMIN)


def test_a_key_is_issued_under_its_token_only() -> None:
    key = issued()
    [event] = key.collect_events()
    assert isinstance(event, Key.KeyIssued)
    assert event.token == token_of("sk-abc") and key.id == Key.create_id(token_of("sk-abc"))
    assert "sk-abc" not in repr(vars(event))


def test_revoking_records_the_token_and_a_second_revoke_is_not_found() -> None:
    key = issued()
    key.collect_events()
    # The key is revoked.
    key.revoke(ADMIN)
    [event] = key.collect_events()
    assert isinstance(event, Key.KeyRevoked) and event.token == key.token and key.revoked
    # Revoking it again names a key that no longer works.
    with pytest.raises(KeyNotFoundError):
        key.revoke(ADMIN)


@pytest.mark.parametrize("text, delta", [
    ("30s", timedelta(seconds=30)), ("10m", timedelta(minutes=10)), ("1h", timedelta(hours=1)),
    ("7d", timedelta(days=7)), ("2w", timedelta(weeks=2)),
])
def test_durations(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize("now, text, then", [
    # As LiteLLM's duration_in_seconds counts months: calendar months, the same day and time...
    ("2026-03-15T10:30:00", "1mo", "2026-04-15T10:30:00"),
    ("2026-11-20T08:00:00", "3mo", "2027-02-20T08:00:00"),
    ("2026-12-01T00:00:00", "1mo", "2027-01-01T00:00:00"),
    ("2026-06-10T12:00:00", "24mo", "2028-06-10T12:00:00"),
    # ... or the last day of a shorter month.
    ("2026-01-31T23:59:00", "1mo", "2026-02-28T23:59:00"),
    ("2027-12-31T06:00:00", "2mo", "2028-02-29T06:00:00"),
])
def test_month_durations_are_calendar_months(now: str, text: str, then: str) -> None:
    start = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert start + parse_duration(text, start) == datetime.fromisoformat(then).replace(tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "7", "d", "1y", "-1d", "1.5h", "9" * 30 + "d", "1month", "1 mon",
                                  "99999999mo"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidRequestError):
        parse_duration(text)


def test_a_key_is_named_by_its_raw_value_or_its_token() -> None:
    token = token_of("sk-abc")
    assert token_from_key_or_token("sk-abc") == token
    assert token_from_key_or_token(token) == token
