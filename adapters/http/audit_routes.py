"""GET /audit and GET /audit/{id}: the audit log projection, for proxy admins and org admins."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orgledger.domain.permissions import only_proxy_admin
from orgledger.projections.audit import AuditFilter
from orgledger.projections.base import iso

from orgledger.adapters.http.auth import Caller
from orgledger.adapters.http.endpoint import parse
from orgledger.adapters.http.errors import DetailError, ProxyError, json_response
from orgledger.adapters.http.limits import MAX_AUDIT_PAGE, Id, Text
from orgledger.adapters.http.queries import Queries
from orgledger.adapters.runtime import Runtime
from orgledger.adapters.timeparse import parse_time

MAX_PAGE_SIZE = 1000
# What parse_time takes; "" is no filter at all.
ISO_DATE_OR_TIME = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"},
                              {"type": "string", "maxLength": 0}, {"type": "null"}]}


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object_id: Id | None = None
    table_name: Text | None = None
    action: Text | None = None
    changed_by: Id | None = None
    start_date: Text | None = Field(None, json_schema_extra=ISO_DATE_OR_TIME)
    end_date: Text | None = Field(None, json_schema_extra=ISO_DATE_OR_TIME)
    page: int = Field(1, ge=1, le=MAX_AUDIT_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("object_id", "table_name", "action", "changed_by", "start_date", "end_date", mode="before")
    @classmethod
    def _empty_is_absent(cls, value: Any) -> Any:
        # LiteLLM tests each filter for truth: `?start_date=` filters nothing.
        return None if value == "" else value

    @field_validator("start_date", "end_date")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None:
            parse_time(value, end_of_day=False)
        return value


def readable_organizations(queries: Queries, caller: Caller) -> tuple[str, ...] | None:
    """None for a proxy admin (everything); else the organizations the caller administers."""
    if caller.is_proxy_admin:
        return None
    roles = queries.roles_of(caller.user_id or "")
    administered = tuple(sorted(o for o, role in roles.items() if role == "org_admin"))
    if not administered:
        raise ProxyError(401, only_proxy_admin("/audit", caller.role, caller.user_id).message)
    return administered


def list_entries(queries: Queries, caller: Caller, query: AuditQuery) -> dict[str, Any]:
    where = AuditFilter(
        object_id=query.object_id,
        table_name=query.table_name,
        action=query.action,
        changed_by=query.changed_by,
        start=iso(parse_time(query.start_date, end_of_day=False)) if query.start_date else None,
        end=iso(parse_time(query.end_date, end_of_day=True)) if query.end_date else None,
        organization_ids=readable_organizations(queries, caller),
    )
    return queries.audit_page(where, query.page, query.page_size)


def one_entry(queries: Queries, caller: Caller, entry_id: str) -> dict[str, Any]:
    entry = queries.audit_entry(entry_id, readable_organizations(queries, caller))
    if entry is None:
        raise DetailError(404, f"Audit log entry not found: {entry_id}")
    return entry


async def audit_list(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    caller = await run_in_threadpool(runtime.authenticate, request.headers)
    request.state.caller = caller
    query = parse(AuditQuery, dict(request.query_params), "query")
    return json_response(await run_in_threadpool(list_entries, runtime.queries, caller, query))


async def audit_entry(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    caller = await run_in_threadpool(runtime.authenticate, request.headers)
    request.state.caller = caller
    entry_id = request.path_params["id"]
    return json_response(await run_in_threadpool(one_entry, runtime.queries, caller, entry_id))


ROUTES = [
    Route("/audit", audit_list, methods=["GET"]),
    Route("/audit/{id}", audit_entry, methods=["GET"]),
]
