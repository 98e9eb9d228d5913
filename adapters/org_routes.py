"""The nine /organization/* endpoints: parse, run one command or query, answer LiteLLM's shapes."""

from __future__ import annotations

from typing import Any

from orgledger.application.commands import (
    AddMembers,
    CreateOrg,
    DeleteOrgs,
    NewMember,
    RemoveMember,
    UpdateMember,
    UpdateOrg,
)
from orgledger.application.commands import Done
from orgledger.domain.budget import Budget
from orgledger.domain.errors import DomainError
from orgledger.domain.membership import Membership
from orgledger.domain.organization import Organization
from orgledger.domain.user import User
from orgledger.domain.values import BudgetLimits
from orgledger.projections import decided

from starlette.responses import Response

from . import org_requests as rq
from .endpoint import Call, route
from .errors import (
    DetailError,
    RequestValidationError,
    encode,
    encoded_response,
    streamed_response,
    validation_errors,
    wrapped,
)
from .read_cache import MAX_ENTRY_BYTES

NEW_ORG_KEYS = (
    "organization_id", "organization_alias", "budget_id", "spend", "metadata", "models", "created_by",
    "updated_by", "users", "litellm_budget_table", "object_permission", "object_permission_id",
    "created_at", "updated_at",
)


def _limits(body: rq.LiteLLM_BudgetTable) -> BudgetLimits:
    return BudgetLimits(**body.limits())


def _permission(body: rq.NewOrganizationRequest | rq.LiteLLM_OrganizationTableUpdate) -> dict[str, Any] | None:
    return body.object_permission.model_dump() if body.object_permission else None


def _without_permission(org: dict[str, Any]) -> dict[str, Any]:
    # Only GET /organization/info includes the permission object; the id is always there.
    return {**org, "object_permission": None}


def new_org(call: Call, body: rq.NewOrganizationRequest) -> dict[str, Any]:
    done = call.runtime.ledger.create_org(CreateOrg(
        actor=call.actor,
        organization_alias=body.organization_alias,
        organization_id=body.organization_id,
        budget_id=body.budget_id,
        limits=_limits(body),
        models=body.models,
        metadata=body.full_metadata(),
        object_permission=_permission(body),
    ))
    org = _org_answer(call, done, done.organization_ids[0])
    return {k: v for k, v in _without_permission(org).items() if k in NEW_ORG_KEYS}


def update_org(call: Call, body: rq.LiteLLM_OrganizationTableUpdate) -> dict[str, Any]:
    done = call.runtime.ledger.update_org(UpdateOrg(
        actor=call.actor,
        organization_id=body.organization_id,
        organization_alias=body.organization_alias,
        models=body.models,
        metadata=body.metadata,
        spend=body.spend,
        object_permission=_permission(body),
        limits=_limits(body),
    ))
    return _without_permission(_org_answer(call, done, body.organization_id))


def _org_answer(call: Call, done: Done, organization_id: str) -> dict[str, Any]:
    """The organization once `done` shows in the views; if they lag, as the command decided it
    (with the members the views show)."""
    runtime = call.runtime
    if call.settle(done):
        return runtime.org_after(done, organization_id)
    with runtime.read() as cur:
        shown = runtime.organizations.org(cur, organization_id)
    org, budget = done.of(Organization)[0], done.of(Budget)[0]
    return decided.org(org, budget, shown["members"] if shown else [])


def delete_orgs(call: Call, body: rq.DeleteOrganizationRequest) -> list[dict[str, Any]]:
    runtime = call.runtime
    runtime.sync()
    with runtime.read() as cur:
        before = {i: runtime.organizations.org(cur, i) for i in body.organization_ids}
    if missing := [i for i, org in before.items() if org is None]:
        # The answer shows each organization as it was; one that isn't there is not deleted.
        raise DetailError(404, f"Organization={missing[0]} not found")
    done = runtime.ledger.delete_orgs(DeleteOrgs(actor=call.actor, organization_ids=body.organization_ids))
    call.settle(done)
    return [{**_without_permission(before[i]), "members": [], "teams": []} for i in done.organization_ids]


def list_orgs(call: Call, query: rq.ListQuery) -> Response:
    runtime = call.runtime
    # Who may see what is part of the key: a non-admin sees only the organizations they belong to.
    member = None if call.caller.is_proxy_admin else (call.caller.user_id or "")

    def read() -> bytes | tuple[bytes, ...]:
        # LiteLLM's list has no pages, so a long one is read, shaped and encoded a page at a
        # time: what it holds at once is about its encoded size, not its objects' (some 10x).
        chunks = [b"["]
        with runtime.read() as cur:
            for page in runtime.organizations.org_pages(cur, member=member, org_id=query.org_id,
                                                        org_alias=query.org_alias):
                if len(chunks) > 1:
                    chunks.append(b",")
                chunks.append(encode([_without_permission(o) for o in page])[1:-1])
        chunks.append(b"]")
        # A short answer is one body (and may be cached); a long one goes out chunk by chunk.
        return b"".join(chunks) if sum(map(len, chunks)) <= MAX_ENTRY_BYTES else tuple(chunks)

    body = runtime.reads.fetch(("list", member, query.org_id, query.org_alias), read)
    return encoded_response(body) if isinstance(body, bytes) else streamed_response(body)


def info_org(call: Call, query: rq.InfoQuery) -> Response:
    # The answer is the same for every caller allowed to ask (access.authorize decided that).
    runtime = call.runtime

    def read() -> bytes | None:
        with runtime.read() as cur:
            org = runtime.organizations.org(cur, query.organization_id)
        return None if org is None else encode(org)

    body = runtime.reads.fetch(("info", query.organization_id), read)
    if body is None:
        raise DetailError(404, "Organization not found")
    return encoded_response(body)


def deprecated_info(call: Call, body: rq.OrganizationRequest) -> list[dict[str, Any]]:
    if not body.organizations:
        raise DetailError(400, "Specify list of organization id's to query. Passed in=[]")
    runtime = call.runtime
    with runtime.read() as cur:
        return runtime.organizations.raw_orgs(cur, body.organizations)


def member_add(call: Call, body: rq.OrganizationMemberAddRequest) -> dict[str, Any]:
    try:
        members = body.members()
    except Exception as e:  # pydantic's ValidationError, located at the body's top level
        raise RequestValidationError(validation_errors(e, "body")) from None
    runtime = call.runtime
    command = AddMembers(
        actor=call.actor,
        organization_id=body.organization_id,
        members=[NewMember(role=m.role, user_id=m.user_id, user_email=m.user_email) for m in members],
    )
    try:
        done = runtime.ledger.add_members(command)
    except DomainError as e:
        raise wrapped(e) from None
    if not call.settle(done):
        return {
            "organization_id": body.organization_id,
            "updated_users": [decided.user(u) for u in done.of(User)],
            "updated_organization_memberships": [decided.membership(m) for m in done.of(Membership)],
        }
    with runtime.read() as cur:
        view = runtime.organizations
        return {
            "organization_id": body.organization_id,
            "updated_users": view.users(cur, done.user_ids),
            "updated_organization_memberships": view.memberships(cur, body.organization_id, done.user_ids),
        }


def member_update(call: Call, body: rq.OrganizationMemberUpdateRequest) -> dict[str, Any]:
    runtime = call.runtime
    done = runtime.ledger.update_member(UpdateMember(
        actor=call.actor,
        organization_id=body.organization_id,
        user_id=body.user_id,
        user_email=body.user_email,
        role=body.role,
        max_budget_in_organization=body.max_budget_in_organization,
    ))
    user_id = done.user_ids[0]
    if not call.settle(done):
        budgets = done.of(Budget)
        return decided.membership(done.of(Membership)[0], budgets[0] if budgets else None)
    with runtime.read() as cur:
        membership = runtime.organizations.membership(cur, body.organization_id, user_id)
    if membership is None:
        raise DetailError(400, f"Member not found in organization={body.organization_id} for user_id={user_id}")
    return membership


def member_delete(call: Call, body: rq.OrganizationMemberDeleteRequest) -> dict[str, Any]:
    runtime = call.runtime
    view = runtime.organizations
    runtime.sync()
    with runtime.read() as cur:
        ids = [body.user_id] if body.user_id else view.user_ids_by_email(cur, body.user_email or "")
        before = view.membership(cur, body.organization_id, ids[0]) if len(ids) == 1 else None
        org_exists = view.org(cur, body.organization_id) is not None
    if before is None and len(ids) == 1 and org_exists:
        # Not a member when we looked: refuse now rather than answer without the row.
        raise DetailError(404, f"Member not found in organization for user_id={ids[0]}")
    done = runtime.ledger.remove_member(RemoveMember(
        actor=call.actor, organization_id=body.organization_id, user_id=body.user_id, user_email=body.user_email
    ))
    call.settle(done)
    row = {k: v for k, v in (before or {}).items() if k not in ("user", "litellm_budget_table")}
    return {**row, "user": None, "organization": None, "litellm_budget_table": None}


ROUTES = [
    # The reads first: they are the most frequent requests (see http.py).
    route("GET", "/organization/info", info_org, name="info_get", query=rq.InfoQuery, quick=True),
    route("GET", "/organization/list", list_orgs, query=rq.ListQuery),
    route("POST", "/organization/new", new_org, body=rq.NewOrganizationRequest),
    route("PATCH", "/organization/update", update_org, body=rq.LiteLLM_OrganizationTableUpdate),
    route("DELETE", "/organization/delete", delete_orgs, body=rq.DeleteOrganizationRequest),
    route("POST", "/organization/info", deprecated_info, name="info_post", body=rq.OrganizationRequest),
    route("POST", "/organization/member_add", member_add, body=rq.OrganizationMemberAddRequest),
    route("PATCH", "/organization/member_update", member_update, body=rq.OrganizationMemberUpdateRequest),
    route("DELETE", "/organization/member_delete", member_delete, body=rq.OrganizationMemberDeleteRequest),
]
