"""Member commands keep the organizations they read in memory (Lookups._org_to_read): a change
made elsewhere since, by another process on the same store, still decides what they do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orgledger.adapters.runtime import Runtime, build_runtime
from orgledger.application.commands import DeleteOrgs, RemoveMember, UpdateMember, UpdateOrg
from orgledger.domain.errors import InvalidRequestError, OrganizationNotFoundError
from tests.conftest import backend_settings

from .helpers import ADMIN, add, create


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Runtime, Runtime]]:
    """Two runtimes on one store, as two processes have."""
    with backend_settings(request.param, tmp_path) as settings:
        here, elsewhere = build_runtime(settings), build_runtime(settings)
        try:
            yield here, elsewhere
        finally:
            elsewhere.close()
            here.close()


def test_a_delete_elsewhere_refuses_the_next_join_here(two: tuple[Runtime, Runtime]) -> None:
    here, elsewhere = two
    create(here, "org-1")
    add(here, "org-1", ("u-1", "internal_user"))  # the organization is now kept here
    elsewhere.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["org-1"]))
    with pytest.raises(OrganizationNotFoundError):
        add(here, "org-1", ("u-2", "internal_user"))
    with pytest.raises(InvalidRequestError):
        here.ledger.update_member(UpdateMember(actor=ADMIN, organization_id="org-1", user_id="u-1",
                                               role="org_admin"))
    with pytest.raises(InvalidRequestError):
        here.ledger.remove_member(RemoveMember(actor=ADMIN, organization_id="org-1", user_id="u-1"))


def test_an_update_elsewhere_leaves_joins_here_working(two: tuple[Runtime, Runtime]) -> None:
    here, elsewhere = two
    create(here, "org-1")
    add(here, "org-1", ("u-1", "internal_user"))
    elsewhere.ledger.update_org(UpdateOrg(actor=ADMIN, organization_id="org-1", organization_alias="renamed"))
    done = add(here, "org-1", ("u-2", "internal_user"))
    [membership] = [d for d in done.decided if getattr(d, "organization_id", None) == "org-1"]
    assert membership.user_id == "u-2"
    here.sync()
    org = here.queries.org("org-1")
    assert org["organization_alias"] == "renamed"
    assert {m["user_id"] for m in org["members"]} == {"u-1", "u-2"}


def test_a_delete_here_is_seen_at_once(two: tuple[Runtime, Runtime]) -> None:
    here, _ = two
    create(here, "org-1")
    add(here, "org-1", ("u-1", "internal_user"))
    here.ledger.delete_orgs(DeleteOrgs(actor=ADMIN, organization_ids=["org-1"]))
    with pytest.raises(OrganizationNotFoundError):
        add(here, "org-1", ("u-2", "internal_user"))
