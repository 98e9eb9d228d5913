"""Small helpers for driving OrgLedger and reading OrganizationsView in tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orgledger.adapters.runtime import Runtime
from orgledger.application.commands import (
    AddMembers,
    CreateOrg,
    Done,
    NewMember,
    RemoveMember,
    UpdateMember,
)
from orgledger.domain.values import Actor, BudgetLimits

ADMIN = Actor(user_id="default_user_id", api_key_hash="a" * 64)


@contextmanager
def views_left_behind(runtime: Runtime) -> Iterator[None]:
    """Commands in the block leave the views where they are, as when a projector process is
    behind: on SQLite in one process, a batch's writer would otherwise catch them up."""
    group = getattr(runtime.ledger.recorder, "group", None)
    hooks = group.after_commit if group is not None else []
    kept = list(hooks)
    hooks.clear()
    try:
        yield
    finally:
        hooks.extend(kept)


def head(runtime: Runtime) -> int:
    return runtime.ledger.recorder.max_notification_id() or 0


def topics_since(runtime: Runtime, position: int) -> list[str]:
    """The event class names stored after `position`, in log order."""
    notifications = runtime.ledger.recorder.select_notifications(
        start=position, limit=10_000, inclusive_of_start=False
    )
    return [n.topic.rsplit(".", 1)[-1] for n in notifications]


def org(runtime: Runtime, organization_id: str) -> dict[str, Any] | None:
    runtime.sync()
    with runtime.read() as cur:
        return runtime.organizations.org(cur, organization_id)


def orgs(runtime: Runtime, **filters: Any) -> list[dict[str, Any]]:
    runtime.sync()
    with runtime.read() as cur:
        return runtime.organizations.orgs(cur, **filters)


def membership(runtime: Runtime, organization_id: str, user_id: str) -> dict[str, Any] | None:
    runtime.sync()
    with runtime.read() as cur:
        return runtime.organizations.membership(cur, organization_id, user_id)


def member_roles(runtime: Runtime, organization_id: str) -> dict[str, str]:
    found = org(runtime, organization_id)
    assert found is not None
    return {m["user_id"]: m["user_role"] for m in found["members"]}


def create(runtime: Runtime, organization_id: str, alias: str = "acme", **limits: Any) -> Done:
    return runtime.ledger.create_org(CreateOrg(
        actor=ADMIN, organization_alias=alias, organization_id=organization_id,
        limits=BudgetLimits(**limits),
    ))


def add(runtime: Runtime, organization_id: str, *members: tuple[str, str], by_email: bool = False) -> Done:
    """Members as (user_id or email, role)."""
    new = [
        NewMember(role=role, user_email=who) if by_email else NewMember(role=role, user_id=who)
        for who, role in members
    ]
    return runtime.ledger.add_members(AddMembers(actor=ADMIN, organization_id=organization_id, members=new))


def update_member(runtime: Runtime, organization_id: str, user_id: str, **changes: Any) -> Done:
    return runtime.ledger.update_member(
        UpdateMember(actor=ADMIN, organization_id=organization_id, user_id=user_id, **changes)
    )


def remove(runtime: Runtime, organization_id: str, user_id: str) -> Done:
    return runtime.ledger.remove_member(
        RemoveMember(actor=ADMIN, organization_id=organization_id, user_id=user_id)
    )


@contextmanager
def counting_saves(runtime: Runtime) -> Iterator[list[int]]:
    """Counts the events of each insert into the store: one entry per atomic save."""
    recorder = runtime.ledger.recorder
    original = recorder.insert_events
    sizes: list[int] = []

    def insert_events(stored_events: Any, **kwargs: Any) -> Any:
        result = original(stored_events, **kwargs)
        sizes.append(len(stored_events))
        return result

    recorder.insert_events = insert_events  # type: ignore[method-assign]
    try:
        yield sizes
    finally:
        del recorder.insert_events
