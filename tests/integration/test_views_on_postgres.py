"""The audit view's SQL and the rebuild's switch-over on PostgreSQL (events in memory, views in
PostgreSQL): the same rows as SQLite, and the same rows after a rebuild."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore

from orgledger.adapters.runtime import Runtime, build_runtime, projection_classes
from orgledger.application.commands import AddMembers, CreateOrg, DeleteOrgs, NewMember, UpdateMember, UpdateOrg
from orgledger.domain.values import Actor, BudgetLimits
from orgledger.projections import rebuild
from orgledger.projections.audit import AuditFilter
from orgledger.projections.projector import Projector
from orgledger.projections.store import ViewStore
from tests.conftest import in_ci, make_settings

pytestmark = pytest.mark.postgres
PG = {"dbname": "test", "host": "127.0.0.1", "port": 5432, "user": "postgres", "password": ""}


@pytest.fixture
def pg_views() -> Iterator[ViewStore]:
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(**PG, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        if in_ci():
            raise
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable; skipping the PostgreSQL view tests")
    admin.execute(f'CREATE SCHEMA "{schema}"')
    store = ViewStore(PostgresDatastore(**PG, schema=schema, pool_size=2))
    try:
        yield store
    finally:
        store.close()
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def busy_runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(make_settings("popo", tmp_path))
    actor = Actor(user_id="admin", api_key_hash="a" * 64)
    ledger = runtime.ledger
    for org in ("o1", "o2"):
        ledger.create_org(CreateOrg(actor=actor, organization_alias=org, organization_id=org,
                                    limits=BudgetLimits(max_budget=5)))
        ledger.add_members(AddMembers(actor=actor, organization_id=org, members=[
            NewMember(role="org_admin", user_id="u1"), NewMember(role="internal_user", user_id=f"{org}-u")]))
    ledger.update_org(UpdateOrg(actor=actor, organization_id="o1", organization_alias="one",
                                limits=BudgetLimits(max_budget=9)))
    ledger.update_member(UpdateMember(actor=actor, organization_id="o1", user_id="u1",
                                      max_budget_in_organization=2))
    ledger.delete_orgs(DeleteOrgs(actor=actor, organization_ids=["o2"]))
    runtime.sync()
    yield runtime
    runtime.close()


def dump(store: ViewStore, projection: Any) -> dict[str, Any]:
    with store.transaction(commit=False) as cur:
        return {name: sorted((tuple(r.values()) for r in cur.execute(f"SELECT * FROM {table}").all()),
                             key=repr) for name, table in projection.t.items()}


def test_views_match_sqlite_and_survive_a_rebuild(busy_runtime: Runtime, pg_views: ViewStore) -> None:
    views = [cls() for cls in projection_classes()]
    projector = Projector(busy_runtime.ledger, pg_views, views)
    projector.create_tables()
    projector.catch_up()
    sqlite_rows = {p.name: dump(busy_runtime.store, busy_runtime.projection(p.name)) for p in views}
    assert {p.name: dump(pg_views, p) for p in views} == sqlite_rows
    # The audit queries, with an org_admin's scope.
    audit = next(p for p in views if p.name == "audit")
    with pg_views.transaction(commit=False) as cur:
        page = audit.page(cur, AuditFilter(organization_ids=("o1",)), 1, 100)
        assert page["total"] == 8 and {e["table_name"] for e in page["audit_logs"]} == {
            "LiteLLM_OrganizationTable", "LiteLLM_OrganizationMembership", "LiteLLM_BudgetTable"}
        assert audit.page(cur, AuditFilter(action="deleted"), 1, 2)["total_pages"] == 2
    # Rebuild each view twice (the second finds the first one's renamed indexes), same rows.
    for _ in range(2):
        for cls in projection_classes():
            done = rebuild.rebuild(busy_runtime.ledger, pg_views, cls, batch_size=4)
            assert done.events == busy_runtime.ledger.recorder.max_notification_id()
    assert {p.name: dump(pg_views, p) for p in views} == sqlite_rows
    with pg_views.transaction(commit=False) as cur:
        indexes = {r["indexname"] for r in cur.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()").all()}
    assert not [i for i in indexes if i.startswith(rebuild.PREFIX)]
    assert {"audit_log_id", "orgs_seq", "memberships_user"} <= indexes
