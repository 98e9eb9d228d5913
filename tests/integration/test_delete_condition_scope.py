"""An organization's delete is refused only by joins to that organization, not to others."""

from __future__ import annotations

import pytest

from orgledger.adapters.runtime import Runtime
from orgledger.application.append_condition import AppendCondition, AppendConditionFailed
from orgledger.application.commands import AddMembers, CreateOrg, NewMember
from orgledger.application.cascade import CASCADE_TOPICS
from orgledger.domain.organization import Organization
from orgledger.domain.values import Actor

ADMIN = Actor(user_id="default_user_id", api_key_hash="0" * 64)


def _join(runtime: Runtime, org: str, user: str) -> None:
    runtime.ledger.add_members(AddMembers(
        actor=ADMIN, organization_id=org, members=[NewMember(role="internal_user", user_id=user)]))


def _delete_condition(runtime: Runtime, org_id: str, after: int) -> AppendCondition:
    ledger = runtime.ledger
    return AppendCondition(quiet_after=after, quiet_topics=CASCADE_TOPICS,
                           quiet_match=lambda s: ledger._names_organization(s, {org_id}))


def test_a_join_elsewhere_does_not_refuse_the_delete(runtime: Runtime) -> None:
    for org in ("a", "b"):
        runtime.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias=org, organization_id=org))
    # The delete of "a" read its roster at this position; then someone joins "b".
    read_at = runtime.ledger._cascade(["a"]).through
    _join(runtime, "b", "u1")
    org = runtime.ledger.repository.get(Organization.create_id("a"))
    org.delete(ADMIN)
    runtime.ledger.save(org, condition=_delete_condition(runtime, "a", read_at))
    assert runtime.ledger.repository.get(Organization.create_id("a")).deleted


def test_a_join_to_the_organization_itself_refuses_the_delete(runtime: Runtime) -> None:
    runtime.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias="a", organization_id="a"))
    read_at = runtime.ledger._cascade(["a"]).through
    _join(runtime, "a", "late")
    org = runtime.ledger.repository.get(Organization.create_id("a"))
    org.delete(ADMIN)
    with pytest.raises(AppendConditionFailed):
        runtime.ledger.save(org, condition=_delete_condition(runtime, "a", read_at))
    assert not runtime.ledger.repository.get(Organization.create_id("a")).deleted
