"""The nine /organization/* endpoints: parse, run one command or query, answer LiteLLM's shapes."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from orgledger.application.commands import (
    AddMembers,
    CreateOrg,
    DeleteOrgs,
    NewMember,
    RemoveMember,
    UpdateMember,
    UpdateOrg,
)
from orgledger.domain.values import BudgetLimits

from orgledger.adapters.http import org_answers as answer
from orgledger.adapters.http import org_requests as rq
from orgledger.adapters.http.endpoint import Call, route
from orgledger.adapters.http.errors import DetailError, encoded_response, streamed_response


def _limits(body: rq.LiteLLM_BudgetTable) -> BudgetLimits:
    return BudgetLimits(**body.limits())


def _permission(body: rq.NewOrganizationRequest | rq.LiteLLM_OrganizationTableUpdate) -> dict[str, Any] | None:
    return body.object_permission.model_dump() if body.object_permission else None


def new_org(call: Call, body: rq.NewOrganizationRequest) -> dict[str, Any]:
    done = call.ledger.create_org(CreateOrg(
        actor=call.actor,
        organization_alias=body.organization_alias,
        organization_id=body.organization_id,
        budget_id=body.budget_id,
        limits=_limits(body),
        models=body.models,
        metadata=body.full_metadata(),
        object_permission=_permission(body),
    ))
    call.settle(done)
    return answer.new_org(done)


def update_org(call: Call, body: rq.LiteLLM_OrganizationTableUpdate) -> dict[str, Any]:
    done = call.ledger.update_org(UpdateOrg(
        actor=call.actor,
        organization_id=body.organization_id,
        organization_alias=body.organization_alias,
        models=body.models,
        metadata=body.metadata,
        spend=body.spend,
        object_permission=_permission(body),
        limits=_limits(body),
    ))
    # The answer lists the members, which the command did not decide on: those the views show.
    members = call.queries.members(body.organization_id, shown=call.settle(done))
    return answer.updated_org(done, members)


def delete_orgs(call: Call, body: rq.DeleteOrganizationRequest) -> list[dict[str, Any]]:
    done = call.ledger.delete_orgs(DeleteOrgs(actor=call.actor, organization_ids=body.organization_ids))
    call.settle(done)
    return answer.deleted_orgs(done)


def list_orgs(call: Call, query: rq.ListQuery) -> Response:
    # A non-admin sees only the organizations they belong to.
    member = None if call.caller.is_proxy_admin else (call.caller.user_id or "")
    found = call.queries.org_list(member, query.org_id, query.org_alias)
    return encoded_response(found) if isinstance(found, bytes) else streamed_response(found)


def info_org(call: Call, query: rq.InfoQuery) -> Response:
    # The answer is the same for every caller allowed to ask (access.authorize decided that).
    found = call.queries.org_info(query.organization_id)
    if found is None:
        raise DetailError(404, "Organization not found")
    return encoded_response(found)


def deprecated_info(call: Call, body: rq.OrganizationRequest) -> list[dict[str, Any]]:
    if not body.organizations:
        raise DetailError(400, "Specify list of organization id's to query. Passed in=[]")
    return call.queries.raw_orgs(body.organizations)


def member_add(call: Call, body: rq.OrganizationMemberAddRequest) -> dict[str, Any]:
    members = body.members()
    done = call.ledger.add_members(AddMembers(
        actor=call.actor,
        organization_id=body.organization_id,
        members=[NewMember(role=m.role, user_id=m.user_id, user_email=m.user_email) for m in members],
    ))
    call.settle(done)
    return answer.added_members(done, body.organization_id)


def member_update(call: Call, body: rq.OrganizationMemberUpdateRequest) -> dict[str, Any]:
    done = call.ledger.update_member(UpdateMember(
        actor=call.actor,
        organization_id=body.organization_id,
        user_id=body.user_id,
        user_email=body.user_email,
        role=body.role,
        max_budget_in_organization=body.max_budget_in_organization,
    ))
    call.settle(done)
    return answer.updated_member(done)


def member_delete(call: Call, body: rq.OrganizationMemberDeleteRequest) -> dict[str, Any]:
    done = call.ledger.remove_member(RemoveMember(
        actor=call.actor, organization_id=body.organization_id, user_id=body.user_id, user_email=body.user_email
    ))
    call.settle(done)
    return answer.removed_member(done)


ROUTES = [
    # The reads first: they are the most frequent requests (see app.py).
    route("GET", "/organization/info", info_org, name="info_get", query=rq.InfoQuery, quick=True),
    route("GET", "/organization/list", list_orgs, query=rq.ListQuery),
    route("POST", "/organization/new", new_org, body=rq.NewOrganizationRequest),
    route("PATCH", "/organization/update", update_org, body=rq.LiteLLM_OrganizationTableUpdate),
    route("DELETE", "/organization/delete", delete_orgs, body=rq.DeleteOrganizationRequest),
    route("POST", "/organization/info", deprecated_info, name="info_post", body=rq.OrganizationRequest),
    # LiteLLM answers member_add's refusals wrapped in its ProxyException (errors.wrapped).
    route("POST", "/organization/member_add", member_add, body=rq.OrganizationMemberAddRequest,
          wraps_refusals=True),
    route("PATCH", "/organization/member_update", member_update, body=rq.OrganizationMemberUpdateRequest),
    route("DELETE", "/organization/member_delete", member_delete, body=rq.OrganizationMemberDeleteRequest),
]
