"""The projector's fast path must behave exactly like Projection.apply and strftime."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from orgledger.projections.base import Projection, iso
from orgledger.projections.organizations.view import OrganizationsView


class _Event:
    pass


class _Shown(_Event):
    pass


class _Recording(Projection):
    name = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, int]] = []


@Projection.apply.register
def _(self, event: _Shown, cur: Any, position: int) -> None:  # type: ignore[no-untyped-def]
    self.seen.append(("shown", position))


def test_handler_dispatches_like_apply() -> None:
    view = _Recording()
    # A registered event class reaches its handler, bound to this projection.
    view.handler(_Shown)(_Shown(), None, 7)
    view.apply(_Shown(), None, 8)
    assert view.seen == [("shown", 7), ("shown", 8)]
    # An event class nobody registered falls through to the default: nothing happens.
    assert view.handler(_Event)(_Event(), None, 9) is None
    assert view.seen == [("shown", 7), ("shown", 8)]
    # Each projection instance gets handlers bound to itself.
    other = _Recording()
    other.handler(_Shown)(_Shown(), None, 1)
    assert other.seen == [("shown", 1)] and view.seen == [("shown", 7), ("shown", 8)]


def test_handler_resolves_the_organizations_view_handlers() -> None:
    from orgledger.domain.organization import Organization

    view = OrganizationsView()
    handler = view.handler(Organization.OrgDeleted)
    # The view's own handler (named `_`, as registered), not the default `apply`.
    assert handler.__self__ is view and handler.__name__ == "_"
    assert view.handler(object).__name__ == "apply"


def test_iso_matches_litellm_strftime_format() -> None:
    for ts in (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
               datetime(2026, 11, 29, 16, 35, 33, 187135, tzinfo=timezone.utc),
               datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=timezone(timedelta(hours=2)))):
        assert iso(ts) == ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same instant in another zone is other text, though the two datetimes are equal.
    utc = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    plus_two = utc.astimezone(timezone(timedelta(hours=2)))
    assert [iso(utc), iso(plus_two), iso(utc)] == [
        "2026-01-02T03:04:05.000000Z", "2026-01-02T05:04:05.000000Z", "2026-01-02T03:04:05.000000Z"]
