"""Schemathesis hooks for `make contract` (loaded through SCHEMATHESIS_HOOKS).

LiteLLM answers 400, where a REST API would say 404 or 409, when a request names a thing that does
not exist or already does (an organization_id taken twice, an unknown budget_id); orgledger answers
as LiteLLM does. This check is schemathesis' positive_data_acceptance (disabled in
schemathesis.toml) with just those 400s let through; tests/http/test_contract.py lets the same through.
"""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

LITELLM_MISSING_OR_DUPLICATE = ("not found for", "already exists", "already a member",
                                "Multiple users with this email")


@schemathesis.check
def positive_data_acceptance_as_litellm(ctx, response, case):  # type: ignore[no-untyped-def]
    if response.status_code == 400 and any(m in response.text for m in LITELLM_MISSING_OR_DUPLICATE):
        return None
    return positive_data_acceptance(ctx, response, case)
