"""The OpenAPI entries of GET /audit and GET /audit/{id}, with LiteLLM's names for their shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from orgledger.adapters.http.audit_routes import AuditQuery
from orgledger.adapters.http.openapi.document import DETAIL, PROXY, Operation

TAG = "Audit Logging"


class AuditLogResponse(BaseModel):
    """One event as an audit entry (LiteLLM's fields, plus the event's request id and type)."""

    id: str
    updated_at: str
    changed_by: str | None
    changed_by_api_key: str | None
    action: Literal["created", "updated", "deleted"]
    table_name: str
    object_id: str
    before_value: dict[str, Any] | None
    updated_values: dict[str, Any] | None
    request_id: str | None
    event_type: str


class PaginatedAuditLogResponse(BaseModel):
    audit_logs: list[AuditLogResponse]
    total: int
    page: int
    page_size: int
    total_pages: int


AUDIT_OPERATIONS = [
    Operation(
        "GET", "/audit", "get_audit_logs_audit_get", "Get Audit Logs", TAG,
        response=PaginatedAuditLogResponse, query=AuditQuery,
        description="One entry per event, in log order, so pages stay the same while events arrive. "
                    "Filters combine with AND; start_date and end_date are ISO-8601 and inclusive (a bare "
                    "date is the whole day). Proxy admins see every entry; an org_admin the entries of "
                    "the organizations they administer; anyone else gets 401.",
    ),
    Operation(
        "GET", "/audit/{id}", "get_audit_log_by_id_audit__id__get", "Get Audit Log By Id", TAG,
        response=AuditLogResponse, errors={404: DETAIL, 401: PROXY},
        description="One audit entry by its id (the same in every rebuild of the audit log).",
    ),
]
