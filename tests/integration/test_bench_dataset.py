"""The benchmark's synthetic log must be a log the application itself could have written:
aggregates load from it and the views show it like the commands' own events."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

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


def test_every_generated_event_is_the_mappers_own_encoding(runtime: Runtime) -> None:
    # The generator derives organizations from one template; each must be byte for byte what
    # the mapper makes of the real events, also past the organizations it checks itself.
    dataset.generate(runtime.ledger, orgs=12, members=1, master_key=MASTER_KEY, first=95)
    stored = runtime.ledger.recorder.select_notifications(start=1, limit=100)
    assert len(stored) == 12 * 4
    timestamp = runtime.ledger.mapper.to_domain_event(stored[0]).timestamp
    actor = dataset.bench_actor(MASTER_KEY)
    expected = [runtime.ledger.mapper.to_stored_event(e) for i in range(95, 107)
                for e in dataset.org_events(i, 1, actor, timestamp)]
    assert [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored] == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in expected]


def test_a_template_that_drifts_from_the_mapper_is_refused(runtime: Runtime) -> None:
    template = dataset.Template(runtime.ledger.mapper, 1, dataset.bench_actor(MASTER_KEY),
                                datetime.now(timezone.utc))
    template.check(7)
    # A template that no longer encodes what the mapper does (here the alias) is caught.
    template.events[1] = replace(template.events[1], state=template.events[1].state.replace(b"Bench", b"bench"))
    with pytest.raises(AssertionError, match="template differs"):
        template.check(7)
