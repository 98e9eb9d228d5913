"""The benchmark's synthetic log must be a log the application itself could have written:
aggregates load from it and the views show it like the commands' own events."""

from __future__ import annotations

from bench import dataset
from orgledger.adapters.runtime import Runtime
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from tests.conftest import MASTER_KEY


def test_generated_organizations_load_and_project_like_real_ones(runtime: Runtime) -> None:
    # Three organizations with two members each are appended in one batch.
    written = dataset.generate(runtime.ledger, orgs=3, members=2, master_key=MASTER_KEY)
    assert written == 3 * (2 + 2 * 2)
    # The aggregates replay from the stored events.
    org = runtime.ledger.repository.get(Organization.create_id("org-2"))
    assert org.organization_alias == dataset.org_alias(2) and not org.deleted
    membership = runtime.ledger.repository.get(Membership.create_id("org-2", "user-2-1"))
    assert membership.role == "internal_user" and not membership.removed
    # The read model shows them, members in order.
    runtime.sync()
    with runtime.read() as cur:
        info = runtime.organizations.org(cur, "org-2")
        by_alias = runtime.organizations.orgs(cur, org_alias=f"{2:07d}")
    assert info is not None
    assert info["litellm_budget_table"]["max_budget"] == 100.0
    assert [m["user_id"] for m in info["members"]] == ["user-2-0", "user-2-1"]
    assert [o["organization_id"] for o in by_alias] == ["org-2"]
