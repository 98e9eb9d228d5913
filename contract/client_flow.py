"""The organization flow through a client that openapi-generator (`-g python`) made from the document.

Run by contract/run.sh with the generated package installed; the base URL and the master key come
from ORGLEDGER_URL and LITELLM_MASTER_KEY. Every step goes through the generated models, so a
schema the generator got wrong fails here."""

from __future__ import annotations

import os
import uuid

import orgledger_client as oc
from orgledger_client.exceptions import NotFoundException, UnauthorizedException

URL, KEY = os.environ["ORGLEDGER_URL"], os.environ["LITELLM_MASTER_KEY"]


def api(key: str) -> oc.OrganizationManagementApi:
    config = oc.Configuration(host=URL, api_key={"APIKeyHeader": f"Bearer {key}"})
    return oc.OrganizationManagementApi(oc.ApiClient(config))


def main() -> None:
    orgs = api(KEY)
    suffix = uuid.uuid4().hex[:8]
    org = orgs.new_organization_organization_new_post(
        oc.NewOrganizationRequest(organization_alias=f"contract-{suffix}", max_budget=10, models=["gpt-4o"]))
    oid = org.organization_id
    assert org.organization_alias == f"contract-{suffix}", org
    assert any(o.organization_id == oid for o in orgs.list_organization_organization_list_get(org_id=oid))
    info = orgs.info_organization_organization_info_get(organization_id=oid)
    assert info.organization_id == oid and info.members == []

    by_id = oc.OrgMember(user_id=f"ann-{suffix}", role="org_admin")
    added = orgs.organization_member_add_organization_member_add_post(
        oc.OrganizationMemberAddRequest(organization_id=oid, member=oc.Member(by_id)))
    assert [m.user_id for m in added.updated_organization_memberships] == [f"ann-{suffix}"]
    by_email = oc.OrgMember(user_email=f"bo-{suffix}@example.com", role="internal_user")
    added = orgs.organization_member_add_organization_member_add_post(
        oc.OrganizationMemberAddRequest(organization_id=oid, member=oc.Member([by_email])))
    bo = added.updated_users[0].user_id
    assert added.updated_users[0].user_email == f"bo-{suffix}@example.com"

    updated = orgs.organization_member_update_organization_member_update_patch(
        oc.OrganizationMemberUpdateRequest(organization_id=oid, user_id=f"ann-{suffix}", role="internal_user",
                                           max_budget_in_organization=2))
    assert updated.user_role == "internal_user", updated
    org = orgs.update_organization_organization_update_patch(
        oc.LiteLLMOrganizationTableUpdate(organization_id=oid, organization_alias=f"renamed-{suffix}"))
    assert org.organization_alias == f"renamed-{suffix}" and len(org.members) == 2
    rows = orgs.deprecated_info_organization_organization_info_post(oc.OrganizationRequest(organizations=[oid]))
    assert [r.organization_id for r in rows] == [oid]
    removed = orgs.organization_member_delete_organization_member_delete_delete(
        oc.OrganizationMemberDeleteRequest(organization_id=oid, user_id=bo))
    assert removed is not None and removed.user_id == bo
    deleted = orgs.delete_organization_organization_delete_delete(oc.DeleteOrganizationRequest(organization_ids=[oid]))
    assert [o.organization_id for o in deleted] == [oid]

    try:
        orgs.info_organization_organization_info_get(organization_id=oid)
        raise AssertionError("a deleted organization was found")
    except NotFoundException as e:
        assert e.status == 404
    try:
        api("sk-not-a-key").list_organization_organization_list_get()
        raise AssertionError("an unknown key was let in")
    except UnauthorizedException as e:
        assert e.status == 401
    print("client flow: create, list, info, add by id and email, update member, update, deprecated info, "
          "remove member, delete, 404 and 401 as exceptions: all passed")


if __name__ == "__main__":
    main()
