"""Given/when/then tests of the Organization aggregate's rules."""

from __future__ import annotations

import pytest

from orgledger.domain.errors import OrganizationDeletedError
from orgledger.domain.organization import Organization, merge_metadata, merge_permission
from orgledger.domain.values import Actor, ObjectPermission

ADMIN = Actor(user_id="default_user_id", api_key_hash="ab" * 32)
OTHER = Actor(user_id="alice")


def new_org(**overrides: object) -> Organization:
    fields: dict[str, object] = {
        "organization_id": "org-1", "organization_alias": "marketing", "budget_id": "b-1",
        "models": ["gpt-4"], "metadata": {"team": "blue"}, "object_permission": None, "actor": ADMIN,
    }
    fields.update(overrides)
    org = Organization(**fields)  # type: ignore[arg-type]
    org.collect_events()
    return org


def test_creating_records_who_created_it() -> None:
    # When an organization is created.
    org = Organization(organization_id="org-1", organization_alias="a", budget_id="b", models=[],
                       metadata={}, object_permission=None, actor=ADMIN)
    # Then one OrgCreated carries its fields and the actor.
    [created] = org.collect_events()
    assert isinstance(created, Organization.OrgCreated)
    assert (created.organization_id, created.actor) == ("org-1", ADMIN)
    assert (org.created_by, org.updated_by, org.spend, org.deleted) == ("default_user_id", "default_user_id", 0.0, False)


def test_id_is_derived_from_the_organization_id() -> None:
    assert new_org().id == Organization.create_id("org-1")
    assert Organization.create_id("org-1") != Organization.create_id("org-2")


def test_update_changes_only_given_fields_and_records_the_actor() -> None:
    org = new_org()
    # When only the alias changes.
    org.update(actor=OTHER, organization_alias="sales")
    # Then models and metadata stay, and the updater is recorded.
    [updated] = org.collect_events()
    assert isinstance(updated, Organization.OrgUpdated)
    assert (updated.models, updated.metadata, updated.actor) == (None, None, OTHER)
    assert (org.organization_alias, org.models, org.metadata) == ("sales", ["gpt-4"], {"team": "blue"})
    assert org.updated_by == "alice" and org.created_by == "default_user_id"


def test_update_may_empty_the_models_list() -> None:
    org = new_org()
    org.update(actor=ADMIN, models=[])
    assert org.models == []


def test_update_merges_metadata_into_what_is_there() -> None:
    org = new_org(metadata={"team": "blue", "limits": {"a": 1}})
    org.update(actor=ADMIN, metadata={"cost": "12", "limits": {"b": 2}, "team": None})
    assert org.metadata == {"team": "blue", "limits": {"a": 1, "b": 2}, "cost": 12}
    # The event carries the merged result, so replay needs no merge logic.
    [updated] = org.collect_events()
    assert updated.metadata == org.metadata


def test_update_of_spend_overwrites_it() -> None:
    org = new_org()
    org.update(actor=ADMIN, spend=3.5)
    assert org.spend == 3.5


def test_object_permission_is_created_then_merged_keeping_its_id() -> None:
    org = new_org()
    org.update(actor=ADMIN, object_permission={"mcp_servers": ["s1"], "vector_stores": None})
    first = org.object_permission
    assert first is not None and first.mcp_servers == ["s1"] and first.vector_stores is None
    org.update(actor=ADMIN, object_permission={"vector_stores": ["v1"]})
    second = org.object_permission
    assert second is not None
    assert second.object_permission_id == first.object_permission_id
    assert (second.mcp_servers, second.vector_stores) == (["s1"], ["v1"])


def test_delete_marks_it_deleted_and_records_the_actor() -> None:
    org = new_org()
    org.delete(OTHER)
    [deleted] = org.collect_events()
    assert isinstance(deleted, Organization.OrgDeleted)
    assert deleted.organization_id == "org-1" and deleted.actor == OTHER
    assert org.deleted and org.updated_by == "alice"


def test_a_deleted_organization_cannot_be_updated_or_deleted_again() -> None:
    org = new_org()
    org.delete(ADMIN)
    org.collect_events()
    with pytest.raises(OrganizationDeletedError):
        org.update(actor=ADMIN, organization_alias="x")
    with pytest.raises(OrganizationDeletedError):
        org.delete(ADMIN)
    assert org.collect_events() == []


@pytest.mark.parametrize(
    ("existing", "changes", "merged"),
    [
        ({}, {"a": 1}, {"a": 1}),
        ({"a": 1}, {"a": None}, {"a": 1}),  # null values are skipped: keys cannot be removed
        ({}, {"n": "8192", "f": "1.5", "e": "3e-07", "s": "abc"}, {"n": 8192, "f": 1.5, "e": 3e-07, "s": "abc"}),
        ({}, {"x": "nan", "y": "inf"}, {"x": "nan", "y": "inf"}),  # not finite: stays a string
        ({"d": {"a": 1, "b": 1}}, {"d": {"b": 2, "c": 3}}, {"d": {"a": 1, "b": 2, "c": 3}}),
        ({"d": {"a": {"deep": 1}}}, {"d": {"a": {"other": 2}}}, {"d": {"a": {"other": 2}}}),  # one level deep
        ({"d": "text"}, {"d": {"a": 1}}, {"d": {"a": 1}}),
        ({"d": {"a": 1}}, {"d": [1]}, {"d": [1]}),
    ],
)
def test_metadata_merge(existing: dict, changes: dict, merged: dict) -> None:
    assert merge_metadata(existing, changes) == merged


def test_metadata_merge_does_not_mutate_its_inputs() -> None:
    existing = {"d": {"a": 1}}
    merge_metadata(existing, {"d": {"b": 2}})
    assert existing == {"d": {"a": 1}}


def test_merge_permission_gives_a_new_permission_an_id() -> None:
    permission = merge_permission(None, {"mcp_servers": ["s"]})
    assert isinstance(permission, ObjectPermission) and permission.object_permission_id
