"""Users by email live in the event store (domain/email_index.py): saved with each user, and safe
under concurrent registrations."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orgledger.adapters.runtime import Runtime
from orgledger.application.commands import CreateUser
from orgledger.application.retry import conflict_observers
from orgledger.domain.email_index import UsersByEmail

from .helpers import ADMIN, add, create, head, topics_since


def indexed(runtime: Runtime, email: str) -> list[str]:
    return list(runtime.ledger.repository.get(UsersByEmail.create_id(email)).user_ids)


def new_user(runtime: Runtime, user_id: str, email: str | None) -> None:
    runtime.ledger.create_user(CreateUser(actor=ADMIN, user_id=user_id, user_email=email,
                                          auto_create_key=False))


@pytest.fixture
def conflicts() -> Iterator[list[str]]:
    seen: list[str] = []
    conflict_observers.append(seen.append)
    yield seen
    conflict_observers.remove(seen.append)


def racing(runtime: Runtime, rival: Callable[[], Any]) -> None:
    """Runs `rival` once, just before the next save: as if it had committed between that
    command's reads and its save."""
    ledger = runtime.ledger
    save = ledger._save
    ran: list[bool] = []

    def save_after_rival(*aggregates: Any, **kwargs: Any) -> int:
        if not ran:
            ran.append(True)
            rival()
        return save(*aggregates, **kwargs)

    ledger._save = save_after_rival  # type: ignore[method-assign]


def test_a_user_is_saved_with_their_email_index(runtime: Runtime) -> None:
    start = head(runtime)
    new_user(runtime, "u-1", "a@example.com")
    assert topics_since(runtime, start) == ["UserCreated", "EmailIndexed"]
    new_user(runtime, "u-2", "a@example.com")
    new_user(runtime, "u-3", "A@example.com")  # emails match exactly, as the views' always have
    assert indexed(runtime, "a@example.com") == ["u-1", "u-2"]
    assert indexed(runtime, "A@example.com") == ["u-3"]
    # A user without an email is in no index.
    start = head(runtime)
    new_user(runtime, "u-4", None)
    assert topics_since(runtime, start) == ["UserCreated"]


def test_two_users_registered_with_one_email_at_once_are_both_indexed(runtime: Runtime,
                                                                      conflicts: list[str]) -> None:
    # The second registration commits between the first one's read of the index and its save.
    racing(runtime, lambda: new_user(runtime, "second", "same@example.com"))
    try:
        new_user(runtime, "first", "same@example.com")
    finally:
        del runtime.ledger._save
    # The first save conflicted on the index's version, and the command decided again.
    assert conflicts == ["create_user"]
    assert indexed(runtime, "same@example.com") == ["second", "first"]


def test_many_users_registered_with_one_email_in_threads_are_all_indexed(runtime: Runtime) -> None:
    errors: list[BaseException] = []

    def register(n: int) -> None:
        try:
            new_user(runtime, f"t-{n}", "busy@example.com")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(indexed(runtime, "busy@example.com")) == [f"t-{n}" for n in range(8)]


def test_members_named_by_one_new_email_at_once_become_one_user(runtime: Runtime,
                                                                conflicts: list[str]) -> None:
    create(runtime, "org-1")
    create(runtime, "org-2")
    # Another member_add registers the email between this one's read of the index and its save.
    racing(runtime, lambda: add(runtime, "org-2", ("new@example.com", "internal_user"), by_email=True))
    try:
        done = add(runtime, "org-1", ("new@example.com", "org_admin"), by_email=True)
    finally:
        del runtime.ledger._save
    # Decided again, it found the user the other command registered instead of making a second.
    assert conflicts == ["add_members"]
    assert indexed(runtime, "new@example.com") == done.user_ids
