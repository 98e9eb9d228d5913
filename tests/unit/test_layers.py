"""What each layer may know: the domain decides by action, never by an HTTP route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import orgledger.domain.permissions

DOMAIN = Path(orgledger.domain.permissions.__file__).parent


def test_the_domain_names_no_route() -> None:
    routes = {
        path.name: found
        for path in sorted(DOMAIN.glob("*.py"))
        if (found := re.findall(r"""["']/(?:organization|user|key|audit|health|metrics)\b[^"']*["']""",
                                path.read_text()))
    }
    assert routes == {}


@pytest.mark.parametrize("layer", ["domain", "application"])
def test_the_inner_layers_import_no_database_driver(layer: str) -> None:
    folder = DOMAIN.parent / layer
    drivers = {
        path.name: found
        for path in sorted(folder.glob("*.py"))
        if (found := re.findall(r"^\s*(?:import|from)\s+(sqlite3|psycopg\w*|eventsourcing\.(?:sqlite|postgres))\b",
                                path.read_text(), re.MULTILINE))
    }
    assert drivers == {}
