"""Each OrgLedger command and its effect on OrganizationsView, on POPO and on a SQLite file."""

from __future__ import annotations

import pytest

from orgledger.adapters.runtime import Runtime
from orgledger.application.commands import (
    CreateOrg,
    CreateUser,
    DeleteOrgs,
    RemoveMember,
    UpdateMember,
    UpdateOrg,
)
from orgledger.domain.budget import Budget
from orgledger.domain.errors import (
    InvalidRequestError,
    MemberExistsError,
    MemberNotFoundError,
    OrganizationExistsError,
    OrganizationNotFoundError,
    UserNotFoundError,
)
from orgledger.domain.user import User
from orgledger.domain.values import Actor, BudgetLimits

from .helpers import (
    ADMIN,
    add,
    create,
    head,
    member_roles,
    membership,
    org,
    orgs,
    remove,
    topics_since,
    update_member,
)

ALICE = Actor(user_id="alice", api_key_hash="b" * 64)


def test_create_shows_the_organization_with_its_budget(runtime: Runtime) -> None:
    done = runtime.ledger.create_org(CreateOrg(
        actor=ADMIN, organization_alias="marketing", models=["gpt-4"], metadata={"k": "v"},
        limits=BudgetLimits(max_budget=20.0, tpm_limit=100),
    ))
    [organization_id] = done.organization_ids
    shown = org(runtime, organization_id)
    assert shown is not None
    assert (shown["organization_alias"], shown["models"], shown["metadata"]) == ("marketing", ["gpt-4"], {"k": "v"})
    assert (shown["created_by"], shown["updated_by"], shown["spend"]) == ("default_user_id", "default_user_id", 0.0)
    budget = shown["litellm_budget_table"]
    assert budget["budget_id"] == shown["budget_id"]
    assert (budget["max_budget"], budget["tpm_limit"], budget["soft_budget"]) == (20.0, 100, None)
    assert shown["members"] == [] and shown["teams"] == []
    # The organization and its budget were one save.
    assert topics_since(runtime, 0) == ["BudgetCreated", "OrgCreated"]


def test_create_without_limits_still_has_a_budget(runtime: Runtime) -> None:
    create(runtime, "org-1")
    shown = org(runtime, "org-1")
    assert shown is not None and shown["litellm_budget_table"]["budget_id"] == shown["budget_id"]


def test_create_with_an_existing_budget_id_shares_it(runtime: Runtime) -> None:
    create(runtime, "org-1", max_budget=5.0)
    first = org(runtime, "org-1")
    assert first is not None
    runtime.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias="b", organization_id="org-2",
                                        budget_id=first["budget_id"]))
    second = org(runtime, "org-2")
    assert second is not None and second["litellm_budget_table"] == first["litellm_budget_table"]


def test_create_refusals_write_nothing(runtime: Runtime) -> None:
    create(runtime, "org-1", alias="original")
    before = head(runtime)
    with pytest.raises(OrganizationExistsError, match="organization_id=org-1 already exists"):
        create(runtime, "org-1", alias="impostor")
    with pytest.raises(InvalidRequestError, match="Budget not found for budget_id=nope"):
        runtime.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias="x", budget_id="nope"))
    with pytest.raises(InvalidRequestError, match="max_budget cannot be negative. Received: -1.0"):
        create(runtime, "org-2", max_budget=-1.0)
    with pytest.raises(InvalidRequestError, match="soft_budget cannot be negative"):
        create(runtime, "org-2", soft_budget=-0.5)
    assert head(runtime) == before
    shown = org(runtime, "org-1")
    assert shown is not None and shown["organization_alias"] == "original"
    assert org(runtime, "org-2") is None


def test_update_changes_fields_merges_metadata_and_updates_the_budget(runtime: Runtime) -> None:
    create(runtime, "org-1", max_budget=20.0, rpm_limit=7)
    runtime.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id="org-1", metadata={"a": {"x": 1}, "n": "5"}))
    runtime.ledger.update_org(UpdateOrg(
        actor=ALICE, organization_id="org-1", organization_alias="renamed", models=[],
        metadata={"a": {"y": 2}}, spend=2.5, object_permission={"vector_stores": ["v"]},
        limits=BudgetLimits(max_budget=50.0),
    ))
    shown = org(runtime, "org-1")
    assert shown is not None
    assert (shown["organization_alias"], shown["models"], shown["spend"]) == ("renamed", [], 2.5)
    assert shown["metadata"] == {"a": {"x": 1, "y": 2}, "n": 5}
    assert (shown["litellm_budget_table"]["max_budget"], shown["litellm_budget_table"]["rpm_limit"]) == (50.0, 7)
    assert shown["object_permission"]["vector_stores"] == ["v"]
    assert shown["object_permission_id"] == shown["object_permission"]["object_permission_id"]
    assert (shown["created_by"], shown["updated_by"]) == ("default_user_id", "alice")


def test_a_budget_only_update_records_who_updated_the_organization(runtime: Runtime) -> None:
    create(runtime, "org-1")
    start = head(runtime)
    runtime.ledger.update_org(UpdateOrg(actor=ALICE, organization_id="org-1", limits=BudgetLimits(soft_budget=1.0)))
    assert sorted(topics_since(runtime, start)) == ["BudgetUpdated", "OrgUpdated"]
    shown = org(runtime, "org-1")
    assert shown is not None and shown["updated_by"] == "alice"
    assert shown["litellm_budget_table"]["soft_budget"] == 1.0


def test_an_update_that_changes_nothing_writes_nothing(runtime: Runtime) -> None:
    create(runtime, "org-1", max_budget=3.0)
    start = head(runtime)
    runtime.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id="org-1", limits=BudgetLimits(max_budget=3.0)))
    runtime.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id="org-1"))
    assert head(runtime) == start


def test_update_refusals_write_nothing(runtime: Runtime) -> None:
    create(runtime, "org-1", max_budget=3.0)
    start = head(runtime)
    with pytest.raises(OrganizationNotFoundError, match="Organization not found for organization_id=nope"):
        runtime.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id="nope", organization_alias="x"))
    # A negative budget refuses the whole update, the alias included.
    with pytest.raises(InvalidRequestError, match="max_budget cannot be negative"):
        runtime.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id="org-1", organization_alias="x",
                                            limits=BudgetLimits(max_budget=-3.0)))
    assert head(runtime) == start
    shown = org(runtime, "org-1")
    assert shown is not None and shown["organization_alias"] == "acme"


def test_delete_removes_the_organization_and_every_membership_in_one_save(runtime: Runtime) -> None:
    from .helpers import counting_saves

    create(runtime, "org-1")
    create(runtime, "org-2")
    add(runtime, "org-1", ("u1", "org_admin"), ("u2", "internal_user"), ("u3", "internal_user_viewer"))
    add(runtime, "org-2", ("u1", "internal_user"))
    with counting_saves(runtime) as saves:
        done = runtime.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["org-1"]))
    # One insert: the OrgDeleted and three MemberRemoved.
    assert saves == [4]
    assert done.organization_ids == ["org-1"]
    assert org(runtime, "org-1") is None
    assert membership(runtime, "org-1", "u1") is None
    # Other organizations keep their members.
    assert member_roles(runtime, "org-2") == {"u1": "internal_user"}


def test_delete_of_several_is_all_or_nothing(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u1", "org_admin"))
    start = head(runtime)
    with pytest.raises(OrganizationNotFoundError, match="Organization=missing not found"):
        runtime.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["org-1", "missing"]))
    assert head(runtime) == start
    assert member_roles(runtime, "org-1") == {"u1": "org_admin"}
    # Deleting twice: the second time the organization is not found.
    runtime.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["org-1"]))
    with pytest.raises(OrganizationNotFoundError):
        runtime.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["org-1"]))


def test_an_existing_id_is_refused_before_a_missing_budget(runtime: Runtime) -> None:
    create(runtime, "org-1")
    before = head(runtime)
    # The duplicate is found by the store's uniqueness, yet still reported first.
    with pytest.raises(OrganizationExistsError, match="organization_id=org-1 already exists"):
        runtime.ledger.create_org(CreateOrg(actor=ADMIN, organization_alias="x", organization_id="org-1",
                                            budget_id="nope"))
    with pytest.raises(OrganizationExistsError, match="organization_id=org-1 already exists"):
        create(runtime, "org-1", max_budget=5.0)
    assert head(runtime) == before


def test_a_deleted_organization_id_cannot_be_reused_or_changed(runtime: Runtime) -> None:
    create(runtime, "org-1")
    runtime.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["org-1"]))
    start = head(runtime)
    with pytest.raises(OrganizationExistsError):
        create(runtime, "org-1")
    with pytest.raises(OrganizationNotFoundError):
        runtime.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id="org-1", organization_alias="x"))
    with pytest.raises(OrganizationNotFoundError):
        add(runtime, "org-1", ("u1", "internal_user"))
    with pytest.raises(InvalidRequestError, match="Organization not found for organization_id=org-1"):
        update_member(runtime, "org-1", "u1", role="org_admin")
    with pytest.raises(InvalidRequestError, match="Organization not found for organization_id=org-1"):
        remove(runtime, "org-1", "u1")
    assert head(runtime) == start


def test_member_add_creates_unknown_users_with_their_memberships_in_one_save(runtime: Runtime) -> None:
    from .helpers import counting_saves

    create(runtime, "org-1")
    with counting_saves(runtime) as saves:
        done = add(runtime, "org-1", ("u1", "org_admin"), ("u2", "internal_user"))
    assert saves == [4]
    assert done.user_ids == ["u1", "u2"]
    assert member_roles(runtime, "org-1") == {"u1": "org_admin", "u2": "internal_user"}
    runtime.sync()
    with runtime.read() as cur:
        users = runtime.organizations.users(cur, ["u1", "u2"])
    # New users are internal_user globally, whatever their role in the organization.
    assert [(u["user_id"], u["user_role"]) for u in users] == [("u1", "internal_user"), ("u2", "internal_user")]


def test_member_add_attaches_existing_users_without_changing_them(runtime: Runtime) -> None:
    create(runtime, "org-1")
    create(runtime, "org-2")
    add(runtime, "org-1", ("u1", "internal_user"))
    start = head(runtime)
    add(runtime, "org-2", ("u1", "org_admin"))
    assert topics_since(runtime, start) == ["MemberAdded"]
    assert member_roles(runtime, "org-2") == {"u1": "org_admin"}


def test_a_failing_member_writes_nothing_for_the_whole_list(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u2", "internal_user"))
    start = head(runtime)
    # The second member of the list is already a member: no user, no membership is written.
    with pytest.raises(MemberExistsError):
        add(runtime, "org-1", ("new-user", "org_admin"), ("u2", "org_admin"))
    assert head(runtime) == start
    runtime.sync()
    with runtime.read() as cur:
        assert runtime.organizations.users(cur, ["new-user"]) == []
    assert member_roles(runtime, "org-1") == {"u2": "internal_user"}


def test_the_same_user_twice_in_one_list_is_refused(runtime: Runtime) -> None:
    create(runtime, "org-1")
    start = head(runtime)
    with pytest.raises(MemberExistsError):
        add(runtime, "org-1", ("u1", "org_admin"), ("u1", "internal_user"))
    with pytest.raises(MemberExistsError):
        add(runtime, "org-1", ("a@example.com", "org_admin"), ("a@example.com", "internal_user"), by_email=True)
    assert head(runtime) == start


def test_no_member_joins_a_missing_organization(runtime: Runtime) -> None:
    with pytest.raises(OrganizationNotFoundError, match="Organization not found for organization_id=nope"):
        add(runtime, "nope", ("u1", "internal_user"))
    assert head(runtime) == 0


def test_a_removed_member_can_rejoin(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u1", "internal_user"), ("u2", "internal_user"))
    update_member(runtime, "org-1", "u1", max_budget_in_organization=5.0)
    remove(runtime, "org-1", "u1")
    assert member_roles(runtime, "org-1") == {"u2": "internal_user"}
    start = head(runtime)
    add(runtime, "org-1", ("u1", "org_admin"))
    assert topics_since(runtime, start) == ["MemberRejoined"]
    shown = membership(runtime, "org-1", "u1")
    assert shown is not None and (shown["user_role"], shown["budget_id"]) == ("org_admin", None)
    # Rejoining puts them last, as a new row would be.
    found = org(runtime, "org-1")
    assert found is not None and [m["user_id"] for m in found["members"]] == ["u2", "u1"]


def test_member_add_by_email_uses_the_one_user_with_that_email(runtime: Runtime) -> None:
    create(runtime, "org-1")
    create(runtime, "org-2")
    first = add(runtime, "org-1", ("a@example.com", "internal_user"), by_email=True)
    [user_id] = first.user_ids
    start = head(runtime)
    second = add(runtime, "org-2", ("a@example.com", "org_admin"), by_email=True)
    assert second.user_ids == [user_id]
    assert topics_since(runtime, start) == ["MemberAdded"]


def register_users_sharing_an_email(runtime: Runtime, email: str, *user_ids: str) -> None:
    # LiteLLM's user_email is not unique: /user/new registers such users.
    for user_id in user_ids:
        runtime.ledger.create_user(CreateUser(actor=ADMIN, user_id=user_id, user_email=email,
                                              auto_create_key=False))


def test_member_add_by_an_email_several_users_share_is_refused(runtime: Runtime) -> None:
    create(runtime, "org-1")
    register_users_sharing_an_email(runtime, "dup@example.com", "u1", "u2")
    start = head(runtime)
    with pytest.raises(InvalidRequestError, match="Multiple users with this email found in db"):
        add(runtime, "org-1", ("dup@example.com", "internal_user"), by_email=True)
    assert head(runtime) == start


def test_member_update_and_remove_by_email(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("a@example.com", "internal_user"), by_email=True)
    register_users_sharing_an_email(runtime, "dup@example.com", "d1", "d2")
    add(runtime, "org-1", ("d1", "internal_user"))
    start = head(runtime)
    for email in ("nobody@example.com", "dup@example.com"):
        with pytest.raises(UserNotFoundError, match=f"Unique user not found for user_email={email}."):
            runtime.ledger.update_member(UpdateMember(actor=ADMIN, organization_id="org-1", user_email=email,
                                                      role="org_admin"))
        with pytest.raises(UserNotFoundError, match=f"Unique user not found for user_email={email}."):
            runtime.ledger.remove_member(RemoveMember(actor=ADMIN, organization_id="org-1", user_email=email))
    assert head(runtime) == start
    done = runtime.ledger.update_member(UpdateMember(actor=ADMIN, organization_id="org-1",
                                                     user_email="a@example.com", role="org_admin"))
    [user_id] = done.user_ids
    assert member_roles(runtime, "org-1")[user_id] == "org_admin"
    runtime.ledger.remove_member(RemoveMember(actor=ADMIN, organization_id="org-1", user_email="a@example.com"))
    assert user_id not in member_roles(runtime, "org-1")


def test_member_update_changes_the_role_and_creates_then_updates_a_budget(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u1", "internal_user"))
    update_member(runtime, "org-1", "u1", role="org_admin", max_budget_in_organization=10.0)
    first = membership(runtime, "org-1", "u1")
    assert first is not None and first["user_role"] == "org_admin"
    assert first["litellm_budget_table"]["max_budget"] == 10.0
    start = head(runtime)
    update_member(runtime, "org-1", "u1", max_budget_in_organization=25.0)
    # The same budget changes; no second budget is opened.
    assert topics_since(runtime, start) == ["BudgetUpdated"]
    second = membership(runtime, "org-1", "u1")
    assert second is not None and second["budget_id"] == first["budget_id"]
    assert second["litellm_budget_table"]["max_budget"] == 25.0
    runtime.ledger.repository.get(Budget.create_id(second["budget_id"]))


def test_member_update_refusals_write_nothing(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u1", "internal_user"))
    start = head(runtime)
    with pytest.raises(MemberNotFoundError, match="Member not found in organization for user_id=u9"):
        update_member(runtime, "org-1", "u9", role="org_admin")
    with pytest.raises(InvalidRequestError, match="Organization not found for organization_id=nope"):
        update_member(runtime, "nope", "u1", role="org_admin")
    with pytest.raises(InvalidRequestError, match="max_budget cannot be negative"):
        update_member(runtime, "org-1", "u1", role="org_admin", max_budget_in_organization=-1.0)
    with pytest.raises(InvalidRequestError, match="Invalid role"):
        update_member(runtime, "org-1", "u1", role="proxy_admin")
    assert head(runtime) == start
    assert member_roles(runtime, "org-1") == {"u1": "internal_user"}


def test_an_update_with_nothing_to_change_writes_nothing(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u1", "internal_user"))
    start = head(runtime)
    update_member(runtime, "org-1", "u1")
    update_member(runtime, "org-1", "u1", role="internal_user")
    assert head(runtime) == start


def test_remove_refusals(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u1", "internal_user"))
    remove(runtime, "org-1", "u1")
    start = head(runtime)
    with pytest.raises(MemberNotFoundError):
        remove(runtime, "org-1", "u1")
    with pytest.raises(MemberNotFoundError):
        remove(runtime, "org-1", "never")
    assert head(runtime) == start


def test_every_event_records_the_actor(runtime: Runtime) -> None:
    create(runtime, "org-1")
    add(runtime, "org-1", ("u1", "internal_user"))
    notifications = runtime.ledger.recorder.select_notifications(start=1, limit=100)
    events = [runtime.ledger.mapper.to_domain_event(n) for n in notifications]
    assert events and all(e.actor == ADMIN for e in events)


def test_list_filters(runtime: Runtime) -> None:
    create(runtime, "org-1", alias="Marketing EU")
    create(runtime, "org-2", alias="marketing_us")
    create(runtime, "org-3", alias="Sales")
    add(runtime, "org-2", ("u1", "internal_user_viewer"))
    add(runtime, "org-3", ("u1", "org_admin"))

    def ids(**filters: object) -> list[str]:
        return [o["organization_id"] for o in orgs(runtime, **filters)]

    assert ids() == ["org-1", "org-2", "org-3"]
    assert ids(org_alias="MARKET") == ["org-1", "org-2"]
    assert ids(org_alias="g_u") == ["org-2"]  # _ is a literal character, not a wildcard
    assert ids(org_alias="%") == []
    assert ids(org_id="org-3") == ["org-3"]
    assert ids(org_id="org") == []  # org_id is exact
    assert ids(org_id="org-1", org_alias="sales") == []
    assert ids(member="u1") == ["org-2", "org-3"]
    assert ids(member="u1", org_alias="sal") == ["org-3"]
    assert ids(member="nobody") == []


def test_the_ledger_refuses_a_recorder_that_ignores_append_conditions() -> None:
    from orgledger.application.ledger import OrgLedger

    # Plain POPO would silently drop the conditions that keep members out of deleted orgs.
    with pytest.raises(TypeError, match="recorder that checks append conditions"):
        OrgLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_an_update_whose_organization_is_deleted_before_the_answer_is_not_found(runtime: Runtime) -> None:
    # Two clients race: the update commits, then a delete commits before the update's answer is read.
    create(runtime, "org-1")
    done = runtime.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id="org-1", organization_alias="x"))
    deleted = runtime.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["org-1"]))
    runtime.settle(deleted.position)
    # The answer is the 404 the client's next read would give, not a crash.
    with pytest.raises(OrganizationNotFoundError, match="Organization not found for organization_id=org-1"):
        runtime.org_after(done, "org-1")


def test_save_records_aggregates_and_events_alike_and_tells_its_observers(runtime: Runtime) -> None:
    # Aggregates and bare events alike are recorded in order and told to the save observers.
    told: list[list[str]] = []
    runtime.ledger.save_observers.append(lambda recs: told.append([r.domain_event.originator_id for r in recs]))
    start = head(runtime)
    first, second = User.register("u-agg", ADMIN), User.register("u-event", ADMIN)
    (event,) = second.collect_events()
    aggregates = runtime.ledger.save(first)
    events = runtime.ledger.save(event)
    assert [r.domain_event.originator_id for r in aggregates] == [first.id]
    assert [r.domain_event.originator_id for r in events] == [second.id]
    assert told[-2:] == [[first.id], [second.id]]
    assert len(topics_since(runtime, start)) == 2
    assert runtime.ledger.repository.get(first.id).user_id == "u-agg"
    assert runtime.ledger.repository.get(second.id).user_id == "u-event"
    assert first.collect_events() == []  # collected once: saving it again records nothing
