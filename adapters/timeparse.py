"""ISO-8601 times as the audit filters take them, from the query string or the command line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def parse_time(text: str, *, end_of_day: bool) -> datetime:
    """An ISO-8601 time in UTC; a bare date means the whole day; no zone means UTC."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end_of_day else time.min, UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO-8601 date or time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
