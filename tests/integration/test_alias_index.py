"""The alias filter's trigram index on SQLite: the same answers as a plain substring search, kept
in step with every write, through rebuilds and for views written before it existed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgledger.adapters.runtime import Runtime, build_runtime, projection_classes
from orgledger.application.commands import CreateOrg, DeleteOrgs, UpdateOrg
from orgledger.domain.values import Actor
from orgledger.projections import rebuild as ops
from tests.conftest import make_settings

ROOT = Actor(user_id="admin")
ALIASES = ["Marketing EU", "marketing-us", "ÄRGER", "İstanbul office", "Straße 5", "😀 party team",
           "a*b?[c]", "x%y_z", "sales", "Sales & Marketing", "ẞ-team", ""]
CHARACTERS = "".join(sorted(set("".join(ALIASES)))) + "ıi̇ss"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = build_runtime(make_settings("sqlite", tmp_path_factory.mktemp("aliases")))
    for i, alias in enumerate(ALIASES):
        rt.ledger.create_org(CreateOrg(actor=ROOT, organization_alias=alias, organization_id=f"o{i}"))
    rt.sync()
    yield rt
    rt.close()


def filtered(runtime: Runtime, text: str) -> list[str]:
    with runtime.read() as cur:
        return [o["organization_id"] for o in runtime.organizations.orgs(cur, org_alias=text)]


def expected(text: str, aliases: list[str] = ALIASES) -> list[str]:
    return [f"o{i}" for i, alias in enumerate(aliases) if text.casefold() in alias.casefold()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(alphabet=CHARACTERS, max_size=6),
    st.sampled_from(ALIASES).flatmap(lambda a: st.tuples(st.just(a), st.integers(0, len(a)), st.integers(0, len(a)))
                                     .map(lambda t: t[0][min(t[1], t[2]):max(t[1], t[2])])),
))
def test_the_filter_answers_as_a_case_insensitive_substring_search(runtime: Runtime, text: str) -> None:
    assert filtered(runtime, text) == expected(text)


def test_the_index_follows_writes_and_rebuilds(tmp_path: Path) -> None:
    rt = build_runtime(make_settings("sqlite", tmp_path))
    try:
        rt.ledger.create_org(CreateOrg(actor=ROOT, organization_alias="Alpha Centauri", organization_id="a"))
        rt.sync()
        assert filtered(rt, "centaur") == ["a"]
        for name in ("Sirius", "Vega"):  # a second rebuild finds no leftovers of the first
            # A rename the live views have not applied: only the rebuilt ones show it.
            rt.ledger.update_org(UpdateOrg(actor=ROOT, organization_id="a", organization_alias=name))
            ops.rebuild_all(rt.ledger, rt.store, projection_classes())
            assert filtered(rt, name.lower()) == ["a"] and filtered(rt, "centaur") == []
            with rt.read() as cur:
                assert not cur.execute("SELECT name FROM sqlite_master WHERE name LIKE 'rebuild%'").all()
        # After the switch-over, the live tables' triggers keep the index in step.
        rt.ledger.create_org(CreateOrg(actor=ROOT, organization_alias="Betelgeuse", organization_id="b"))
        rt.ledger.update_org(UpdateOrg(actor=ROOT, organization_id="a", organization_alias="Proxima"))
        rt.sync()
        assert filtered(rt, "centaur") == [] and filtered(rt, "proxim") == ["a"]
        assert filtered(rt, "geuse") == ["b"]
        rt.ledger.delete_orgs(DeleteOrgs(actor=ROOT, organization_ids=["b"]))
        rt.sync()
        assert filtered(rt, "geuse") == []
    finally:
        rt.close()


def test_views_written_before_the_index_get_it_filled(tmp_path: Path) -> None:
    rt = build_runtime(make_settings("sqlite", tmp_path))
    rt.ledger.create_org(CreateOrg(actor=ROOT, organization_alias="Old Timer", organization_id="old"))
    rt.sync()
    rt.close()
    # The views as a build without the index left them.
    db = sqlite3.connect(tmp_path / "data" / "views.db")
    db.execute("DROP TABLE orgs_alias")
    for trigger in ("insert", "delete", "update"):
        db.execute(f"DROP TRIGGER IF EXISTS orgs_alias_{trigger}")
    db.commit()
    db.close()
    rt = build_runtime(make_settings("sqlite", tmp_path))
    try:
        assert filtered(rt, "timer") == ["old"]
    finally:
        rt.close()
