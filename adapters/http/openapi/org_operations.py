"""The OpenAPI entries of the nine /organization/* endpoints, named as LiteLLM names them."""

from __future__ import annotations

from typing import Any

from orgledger.adapters.http import org_requests as rq
from orgledger.adapters.http.openapi import responses as rs
from orgledger.adapters.http.openapi.document import DETAIL, PROXY, Operation

TAG = "organization management"

# Where the ids an answer carries go in the operations that take them (OpenAPI links). A link's
# requestBody is a runtime expression, never an object: openapi-generator's parser refuses object
# bodies (though OpenAPI allows them). So a body link names an object of the answer that carries the
# id: the organization itself, or the membership member_add made. Stateful fuzzers (schemathesis)
# merge it into the body they generate.
NEW_ORGANIZATION = "$response.body"
NEW_MEMBERSHIP = "$response.body#/updated_organization_memberships/0"


def _link(operation_id: str, description: str, *, body: str | None = None, **parameters: str) -> dict[str, Any]:
    link: dict[str, Any] = {"operationId": operation_id, "description": description}
    if body is not None:
        link["requestBody"] = body
    if parameters:
        link["parameters"] = parameters
    return link


NEW_ORG_LINKS = {
    "GetOrganizationInfo": _link("info_organization_organization_info_get", "Read the new organization.",
                                 organization_id="$response.body#/organization_id"),
    "ListThisOrganization": _link("list_organization_organization_list_get", "List just this organization.",
                                  org_id="$response.body#/organization_id"),
    "UpdateOrganization": _link("update_organization_organization_update_patch",
                                "Update it: its organization_id (the rest of the answer is taken as is).",
                                body=NEW_ORGANIZATION),
    "AddMember": _link("organization_member_add_organization_member_add_post",
                       "Add members to it: its organization_id, with the `member` to add.", body=NEW_ORGANIZATION),
    "GenerateKeyInOrganization": _link("generate_key_fn_key_generate_post",
                                       "Issue a key in it: its organization_id.", body=NEW_ORGANIZATION),
}
MEMBER_ADD_LINKS = {
    "UpdateAddedMember": _link("organization_member_update_organization_member_update_patch",
                               "Change the (first) added member: its organization_id and user_id.",
                               body=NEW_MEMBERSHIP),
    "DeleteAddedMember": _link("organization_member_delete_organization_member_delete_delete",
                               "Remove the (first) added member: its organization_id and user_id.",
                               body=NEW_MEMBERSHIP),
}

ORG_OPERATIONS = [
    Operation(
        "POST", "/organization/new", "new_organization_organization_new_post", "New Organization", TAG,
        response=rs.NewOrganizationResponse, body=rq.NewOrganizationRequest,
        errors={400: DETAIL, 401: (PROXY, DETAIL)}, links=NEW_ORG_LINKS,
        description="Create an organization with its budget. Proxy admins only. An `organization_id` "
                    "that already exists, or a negative budget, is a 400.",
    ),
    Operation(
        "PATCH", "/organization/update", "update_organization_organization_update_patch",
        "Update Organization", TAG,
        response=rs.LiteLLM_OrganizationTableWithMembers, body=rq.LiteLLM_OrganizationTableUpdate,
        errors={400: DETAIL, 404: DETAIL},
        description="Change an organization's alias, models, metadata or budget. Proxy admins only.",
    ),
    Operation(
        "DELETE", "/organization/delete", "delete_organization_organization_delete_delete",
        "Delete Organization", TAG,
        response=list[rs.LiteLLM_OrganizationTableWithMembers], body=rq.DeleteOrganizationRequest,
        errors={401: (PROXY, DETAIL), 404: DETAIL},
        description="Delete organizations and every membership in them; answers them as they were.",
    ),
    Operation(
        "GET", "/organization/list", "list_organization_organization_list_get", "List Organization", TAG,
        response=list[rs.LiteLLM_OrganizationTableWithMembers], query=rq.ListQuery,
        description="Proxy admins see every organization; anyone else those they are a member of. "
                    "`org_id` filters exactly, `org_alias` by case-insensitive substring.",
    ),
    Operation(
        "GET", "/organization/info", "info_organization_organization_info_get", "Info Organization", TAG,
        response=rs.LiteLLM_OrganizationTableWithMembers, query=rq.InfoQuery, errors={404: DETAIL},
    ),
    Operation(
        "POST", "/organization/info", "deprecated_info_organization_organization_info_post",
        "Deprecated Info Organization", TAG,
        response=list[rs.OrganizationRowWithBudget], body=rq.OrganizationRequest,
        errors={400: DETAIL}, deprecated=True,
        description="Raw organization rows with their budget; unknown ids are skipped.",
    ),
    Operation(
        "POST", "/organization/member_add", "organization_member_add_organization_member_add_post",
        "Organization Member Add", TAG,
        response=rs.OrganizationAddMemberResponse, body=rq.OrganizationMemberAddRequest,
        errors={400: PROXY, 404: PROXY}, refers_to=(rq.OrgMember,), links=MEMBER_ADD_LINKS,
        description="Add one member or a list. A user named by an unknown email is created. "
                    "Someone who is already a member is a 400.",
    ),
    Operation(
        "PATCH", "/organization/member_update", "organization_member_update_organization_member_update_patch",
        "Organization Member Update", TAG,
        response=rs.LiteLLM_OrganizationMembershipTable, body=rq.OrganizationMemberUpdateRequest,
        errors={400: DETAIL, 404: DETAIL},
    ),
    Operation(
        "DELETE", "/organization/member_delete", "organization_member_delete_organization_member_delete_delete",
        "Organization Member Delete", TAG,
        response=rs.OrganizationMembershipRow | None, body=rq.OrganizationMemberDeleteRequest,
        errors={400: DETAIL, 404: DETAIL},
    ),
]

SERVICE_OPERATIONS = [
    Operation("GET", "/health/liveliness", "health_liveliness_health_liveliness_get", "Liveliness", "health",
              response=str, auth="none", description="Answers while the process runs."),
    Operation("GET", "/health/liveness", "health_liveliness_health_liveness_get", "Liveness", "health",
              response=str, auth="none", description="The same as /health/liveliness (LiteLLM serves both)."),
    Operation("GET", "/health/readiness", "health_readiness_health_readiness_get", "Readiness", "health",
              response=rs.HealthResponse, auth="none", errors={503: "HealthResponse"},
              description="200 while the event store and the read models are reachable, else 503."),
    Operation("GET", "/metrics", "metrics_metrics_get", "Metrics", "metrics",
              response=str, auth="optional", media_type="text/plain",
              description="Prometheus text format. Open unless ORGLEDGER_METRICS_REQUIRE_AUTH=true, "
                          "then a proxy admin's key is needed."),
]
