"""What each layer may know: the domain decides by action, never by an HTTP route."""

from __future__ import annotations

import re
from pathlib import Path

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
