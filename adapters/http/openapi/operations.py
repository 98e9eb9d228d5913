"""Every documented operation: the list /openapi.json is built from.

Another module's endpoints join the document by adding their list here, e.g.
`*USER_OPERATIONS, *KEY_OPERATIONS` (identity) or `*AUDIT_OPERATIONS` (audit), each a list of
`openapi.Operation` kept beside that module's routes. tests/http/test_openapi.py fails while a
served route is missing from this list.
"""

from __future__ import annotations

from orgledger.adapters.http.openapi.audit_operations import AUDIT_OPERATIONS
from orgledger.adapters.http.openapi.identity_operations import KEY_OPERATIONS, USER_OPERATIONS
from orgledger.adapters.http.openapi.document import Operation
from orgledger.adapters.http.openapi.org_operations import SERVICE_OPERATIONS, ORG_OPERATIONS

OPERATIONS: list[Operation] = [
    *ORG_OPERATIONS,
    *USER_OPERATIONS,
    *KEY_OPERATIONS,
    *AUDIT_OPERATIONS,
    *SERVICE_OPERATIONS,
]
