"""Users by email live in the event store (domain/email_index.py): saved with each user, safe
under concurrent registrations, and built once for logs written before it existed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.adapters.settings import Settings
from orgledger.application import email_backfill
from orgledger.application.commands import AddMembers, CreateUser, NewMember, RemoveMember, UpdateMember
from orgledger.application.retry import conflict_observers
from orgledger.domain.email_index import UsersByEmail, UsersByEmailBackfill
from orgledger.domain.errors import InvalidRequestError, UserNotFoundError
from orgledger.domain.user import User
from tests.conftest import make_settings, unprojected_settings

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


# Logs written before the index existed.

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    with unprojected_settings(request.param, tmp_path) as settings:
        yield settings


def write_users_the_old_way(settings: Settings, *users: tuple[str, str | None]) -> None:
    """Users saved as orgledger saved them before the index: without it."""
    runtime = build_runtime(settings)
    try:
        create(runtime, "org-1")
        runtime.ledger.save(*(User.register(u, ADMIN, user_email=e) for u, e in users))
    finally:
        runtime.close()


def test_users_of_an_older_log_are_found_by_email_after_the_upgrade(store: Settings) -> None:
    write_users_the_old_way(store, ("old-1", "one@example.com"), ("old-2", "dup@example.com"),
                            ("old-3", "dup@example.com"), ("old-4", None))
    runtime = build_runtime(store)
    try:
        done = add(runtime, "org-1", ("one@example.com", "internal_user"), by_email=True)
        assert done.user_ids == ["old-1"]
        runtime.ledger.update_member(UpdateMember(actor=ADMIN, organization_id="org-1",
                                                  user_email="one@example.com", role="org_admin"))
        with pytest.raises(InvalidRequestError, match="Multiple users with this email found in db"):
            add(runtime, "org-1", ("dup@example.com", "internal_user"), by_email=True)
        with pytest.raises(UserNotFoundError, match="Unique user not found for user_email=dup@example.com"):
            runtime.ledger.remove_member(RemoveMember(actor=ADMIN, organization_id="org-1",
                                                      user_email="dup@example.com"))
        assert indexed(runtime, "dup@example.com") == ["old-2", "old-3"]
        backfilled = runtime.ledger.repository.get(UsersByEmailBackfill.create_id())
        # A second start finds the marker and writes nothing.
        position = head(runtime)
    finally:
        runtime.close()
    assert backfilled.through > 0
    again = build_runtime(store)
    try:
        assert head(again) == position
    finally:
        again.close()


def test_a_backfill_that_stopped_half_way_is_finished_by_the_next_start(
        store: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    users = [(f"old-{n}", f"user-{n % 3}@example.com") for n in range(7)]
    write_users_the_old_way(store, *users)
    # The first start saves one batch of indexes, then dies.
    monkeypatch.setattr(email_backfill, "BATCH_SIZE", 1)
    saves = 0
    real_backfill = email_backfill._backfill

    class Crash(Exception):
        pass

    def crash_after_one_save(app: Any) -> int:
        save = app.save

        def save_once(*aggregates: Any, **kwargs: Any) -> Any:
            nonlocal saves
            if saves == 1:
                raise Crash
            saves += 1
            return save(*aggregates, **kwargs)

        app.save = save_once
        try:
            return real_backfill(app)
        finally:
            del app.save

    monkeypatch.setattr(email_backfill, "_backfill", crash_after_one_save)
    with pytest.raises(Crash):
        build_runtime(store)
    monkeypatch.setattr(email_backfill, "_backfill", real_backfill)
    runtime = build_runtime(store)
    try:
        # Every user once, in log order; and the marker.
        for r in range(3):
            assert indexed(runtime, f"user-{r}@example.com") == [u for u, e in users
                                                                  if e == f"user-{r}@example.com"]
        assert UsersByEmailBackfill.create_id() in runtime.ledger.repository
    finally:
        runtime.close()


def test_a_new_store_gets_no_marker_until_it_has_events(tmp_path: Path) -> None:
    settings = make_settings("sqlite", tmp_path)
    runtime = build_runtime(settings)
    try:
        assert head(runtime) == 0
        new_user(runtime, "u-1", "a@example.com")
    finally:
        runtime.close()
    runtime = build_runtime(settings)
    try:
        # Everything was indexed as registered: the marker alone is written.
        assert topics_since(runtime, 2) == ["Backfilled"]
        assert indexed(runtime, "a@example.com") == ["u-1"]
    finally:
        runtime.close()
