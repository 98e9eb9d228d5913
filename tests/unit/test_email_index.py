"""Given/when/then tests of UsersByEmail, the index of users by email."""

from __future__ import annotations

from orgledger.domain.email_index import UsersByEmail, UsersByEmailBackfill
from orgledger.domain.values import Actor
from orgledger.projections.audit_entries import is_bookkeeping

ADMIN = Actor(user_id="default_user_id")


def test_the_first_user_with_an_email_starts_its_index() -> None:
    index = UsersByEmail.listing(None, "a@example.com", "u-1", ADMIN)
    [indexed] = index.collect_events()
    assert isinstance(indexed, UsersByEmail.EmailIndexed)
    assert (indexed.user_email, indexed.user_id) == ("a@example.com", "u-1")
    assert index.id == UsersByEmail.create_id("a@example.com")
    assert index.user_ids == ["u-1"]


def test_more_users_with_the_email_are_listed_in_order_each_once() -> None:
    index = UsersByEmail.listing(None, "a@example.com", "u-1", ADMIN)
    index.collect_events()
    assert UsersByEmail.listing(index, "a@example.com", "u-2", ADMIN) is index
    index.add("u-2", ADMIN)  # already listed: nothing happens
    assert [type(e) for e in index.collect_events()] == [UsersByEmail.UserIndexed]
    assert index.user_ids == ["u-1", "u-2"]


def test_emails_are_indexed_exactly_as_given() -> None:
    ids = {UsersByEmail.create_id(e) for e in ("a@example.com", "A@example.com", " a@example.com")}
    assert len(ids) == 3


def test_the_backfill_marker_has_one_fixed_id() -> None:
    assert UsersByEmailBackfill(through=7).id == UsersByEmailBackfill(through=9).id


def test_index_events_are_bookkeeping_for_the_audit_trail() -> None:
    assert is_bookkeeping(UsersByEmail.UserIndexed) and is_bookkeeping(UsersByEmailBackfill.Backfilled)
    assert not is_bookkeeping(Actor)
