"""PIM for Groups and group policies over HTTP (graphsim's ASGI app) and through the real msgraph-sdk.

Documented examples: api-reference/v1.0/api/privilegedaccessgroup-post-eligibilityschedulerequests.md,
privilegedaccessgroup-post-assignmentschedulerequests.md, privilegedaccessgroup-list-eligibilityschedules.md,
privilegedaccessgroup-list-assignmentscheduleinstances.md, policyroot-list-rolemanagementpolicyassignments.md,
unifiedrolemanagementpolicy-get.md, unifiedrolemanagementpolicyrule-update.md, approvalstage-update.md.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from graphsim.app import GraphSim
from graphsim.http import SimRequest
from graphsim.pim.fakes import dispatch
from tests.graphsim.conftest import assert_graph_error, assert_subset, seed

USER = "3cce9d87-3986-4f19-8335-7ed075408ca2"
GROUP = "2b5ed229-4072-478d-9504-a047ebd4b07d"
PIM = "/identityGovernance/privilegedAccess/group"
NS = "#microsoft.graph.unifiedRoleManagementPolicy"
ELIGIBILITY = {
    "accessId": "member",
    "principalId": USER,
    "groupId": GROUP,
    "action": "AdminAssign",
    "scheduleInfo": {
        "startDateTime": "2023-02-06T19:25:00.000Z",
        "expiration": {"type": "AfterDateTime", "endDateTime": "2023-02-07T19:56:00.000Z"},
    },
    "justification": "Assign eligible request.",
}


@pytest.fixture
async def world(ctl: httpx.AsyncClient) -> None:
    await seed(
        ctl,
        {
            "users": [{"id": USER, "displayName": "Alex Wilber", "userPrincipalName": "alexw@contoso.com"}],
            "groups": [
                {
                    "id": GROUP,
                    "displayName": "FinReport-SeniorAnalyst-SecureAccess",
                    "securityEnabled": True,
                    "mailEnabled": False,
                    "groupTypes": [],
                }
            ],
        },
    )
    resp = await ctl.post("/clock", json={"now": "2023-02-07T06:57:54Z"})
    assert resp.status_code in (200, 204), resp.text


async def member_policy_id(http: httpx.AsyncClient) -> str:
    resp = await http.get(
        "/policies/roleManagementPolicyAssignments",
        params={"$filter": f"scopeId eq '{GROUP}' and scopeType eq 'Group' and roleDefinitionId eq 'member'"},
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["value"][0]["policyId"])


async def test_post_eligibility_request_example_1(http: httpx.AsyncClient, world: None) -> None:
    # the documented createdBy is a user: the example was sent with a delegated token
    delegated = {"x-graphsim-user": USER}
    resp = await http.post(f"{PIM}/eligibilityScheduleRequests", json=ELIGIBILITY, headers=delegated)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["@odata.context"].endswith(
        "/$metadata#identityGovernance/privilegedAccess/group/eligibilityScheduleRequests/$entity"
    )
    assert_subset(
        {
            "status": "Provisioned",
            "action": "adminAssign",
            "isValidationOnly": False,
            "justification": "Assign eligible request.",
            "principalId": USER,
            "accessId": "member",
            "groupId": GROUP,
            "targetScheduleId": f"{GROUP}_member_{body['id']}",
            "createdBy": {"user": {"id": USER}},
        },
        body,
    )
    assert body["scheduleInfo"]["expiration"] == {
        "type": "afterDateTime",
        "endDateTime": "2023-02-07T19:56:00Z",
        "duration": None,
    }
    members = await http.get(f"/groups/{GROUP}/members")
    assert members.json()["value"] == []  # eligibility never changes members


async def test_list_eligibility_schedules_with_select_example_2(http: httpx.AsyncClient, world: None) -> None:
    await http.post(f"{PIM}/eligibilityScheduleRequests", json=ELIGIBILITY)
    resp = await http.get(
        f"{PIM}/eligibilitySchedules",
        params={
            "$filter": f"groupId eq '{GROUP}' and principalId eq '{USER}'",
            "$select": "accessId,principalId,groupId",
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["@odata.context"].endswith(
        "$metadata#identityGovernance/privilegedAccess/group/eligibilitySchedules(accessId,principalId,groupId)"
    )
    assert resp.json()["value"] == [{"accessId": "member", "principalId": USER, "groupId": GROUP}]


async def test_list_without_required_filter_is_400(http: httpx.AsyncClient, world: None) -> None:
    for name in (
        "eligibilitySchedules",
        "eligibilityScheduleInstances",
        "assignmentSchedules",
        "assignmentScheduleInstances",
        "assignmentScheduleRequests",
    ):
        assert_graph_error(await http.get(f"{PIM}/{name}"), 400, "BadRequest")
    assert_graph_error(await http.get("/policies/roleManagementPolicyAssignments"), 400, "BadRequest")


async def test_timedelta_duration_is_refused(http: httpx.AsyncClient, world: None) -> None:
    body = {**ELIGIBILITY, "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "0:30:00"}}}
    assert_graph_error(await http.post(f"{PIM}/eligibilityScheduleRequests", json=body), 400, "BadRequest")


async def test_activation_with_mfa_header_then_expiry(
    http: httpx.AsyncClient, ctl: httpx.AsyncClient, world: None
) -> None:
    await http.post(f"{PIM}/eligibilityScheduleRequests", json=ELIGIBILITY)
    pid = await member_policy_id(http)
    patched = await http.patch(
        f"/policies/roleManagementPolicies/{pid}/rules/Enablement_EndUser_Assignment",
        json={
            "@odata.type": NS + "EnablementRule",
            "id": "Enablement_EndUser_Assignment",
            "enabledRules": ["MultiFactorAuthentication", "Justification"],
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["@odata.context"].endswith(f"roleManagementPolicies('{pid}')/rules/$entity")
    activation = {
        "accessId": "member",
        "principalId": USER,
        "groupId": GROUP,
        "action": "selfActivate",
        "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT2H"}},
        "justification": "Activate assignment.",
    }
    refused = await http.post(f"{PIM}/assignmentScheduleRequests", json=activation)
    assert (
        "MfaRule"
        in assert_graph_error(refused, 400, "RoleAssignmentRequestPolicyValidationFailed")["message"]
    )
    resp = await http.post(
        f"{PIM}/assignmentScheduleRequests",
        json=activation,
        headers={"x-graphsim-mfa": "true", "x-graphsim-user": USER},
    )
    assert resp.status_code == 201, resp.text
    assert [m["id"] for m in (await http.get(f"/groups/{GROUP}/members")).json()["value"]] == [USER]
    instances = await http.get(
        f"{PIM}/assignmentScheduleInstances", params={"$filter": f"groupId eq '{GROUP}'"}
    )
    assert [i["assignmentType"] for i in instances.json()["value"]] == ["Activated"]
    await ctl.post("/clock", json={"advance": "PT2H"})
    assert (await http.get(f"/groups/{GROUP}/members")).json()["value"] == []
    audits = await http.get("/auditLogs/directoryAudits", params={"$filter": "loggedByService eq 'PIM'"})
    names = [a["activityDisplayName"] for a in audits.json()["value"]]
    assert "Remove member from role (PIM activation expired)" in names
    assert "Onboarded resource to PIM" in names


async def test_policy_assignments_expand_and_get_policy(http: httpx.AsyncClient, world: None) -> None:
    resp = await http.get(
        "/policies/roleManagementPolicyAssignments",
        params={
            "$filter": f"scopeId eq '{GROUP}' and scopeType eq 'Group' and roleDefinitionId eq 'owner'",
            "$expand": "policy($expand=rules)",
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["@odata.context"].endswith(
        "$metadata#policies/roleManagementPolicyAssignments(policy(rules()))"
    )
    [assignment] = body["value"]
    assert len(assignment["policy"]["rules"]) == 17
    plain = await http.get(f"/policies/roleManagementPolicies/{assignment['policyId']}")
    assert "rules" not in plain.json()
    expanded = await http.get(
        f"/policies/roleManagementPolicies/{assignment['policyId']}", params={"$expand": "rules"}
    )
    assert expanded.json()["rules"][0]["id"] == "Expiration_Admin_Eligibility"


async def test_onboarding_changes_ids_over_http(http: httpx.AsyncClient, world: None) -> None:
    old = await member_policy_id(http)
    await http.post(f"{PIM}/eligibilityScheduleRequests", json=ELIGIBILITY)
    assert await member_policy_id(http) != old
    assert_graph_error(
        await http.get(f"/policies/roleManagementPolicies/{old}"), 404, "Request_ResourceNotFound"
    )


async def test_mfa_and_acrs_conflict_over_http(http: httpx.AsyncClient, world: None) -> None:
    pid = await member_policy_id(http)
    context = await http.patch(
        f"/policies/roleManagementPolicies/{pid}",
        json={
            "rules": [
                {
                    "@odata.type": NS + "AuthenticationContextRule",
                    "id": "AuthenticationContext_EndUser_Assignment",
                    "isEnabled": True,
                    "claimValue": "c1",
                }
            ]
        },
    )
    assert context.status_code == 200, context.text
    assert "rules" not in context.json()
    pid = await member_policy_id(http)
    resp = await http.patch(
        f"/policies/roleManagementPolicies/{pid}/rules/Enablement_EndUser_Assignment",
        json={"@odata.type": NS + "EnablementRule", "enabledRules": ["MultiFactorAuthentication"]},
    )
    assert_graph_error(resp, 400, "MfaAndAcrsConflict")


async def test_documented_approval_stage_update(http: httpx.AsyncClient, world: None) -> None:
    await http.post(f"{PIM}/eligibilityScheduleRequests", json=ELIGIBILITY)
    pid = await member_policy_id(http)
    await http.patch(
        f"/policies/roleManagementPolicies/{pid}/rules/Approval_EndUser_Assignment",
        json={"@odata.type": NS + "ApprovalRule", "setting": {"isApprovalRequired": True}},
    )
    resp = await http.post(
        f"{PIM}/assignmentScheduleRequests",
        json={
            "accessId": "member",
            "principalId": USER,
            "groupId": GROUP,
            "action": "selfActivate",
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT1H"}},
            "justification": "j",
        },
    )
    approval_id = resp.json()["approvalId"]
    assert resp.json()["status"] == "PendingApproval"
    approval = (await http.get(f"{PIM}/assignmentApprovals/{approval_id}")).json()
    assert approval["stages"][0]["status"] == "InProgress"
    stage = approval["stages"][0]["id"]
    decided = await http.patch(
        f"{PIM}/assignmentApprovals/{approval_id}/stages/{stage}",
        json={"reviewResult": "Approve", "justification": "OK"},
    )
    assert decided.status_code == 204, decided.text
    assert [m["id"] for m in (await http.get(f"/groups/{GROUP}/members")).json()["value"]] == [USER]


def test_control_route_approves(sim: GraphSim) -> None:
    """The /_sim/pim/approvals/{id} route the app can mount in its control router."""
    pim = sim.tenant.plugins["pim"]
    routes = pim.control_routes()  # type: ignore[attr-defined]
    resp = dispatch(routes, SimRequest("POST", "/_sim/pim/approvals/missing", {}, {}, {"approve": True}))
    assert resp.status == 404


# -- through the real msgraph-sdk ---------------------------------------------------------------------


async def test_sdk_eligibility_request_and_schedules(sdk: Any, world: None) -> None:
    from datetime import datetime

    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.identity_governance.privileged_access.group.eligibility_schedules.eligibility_schedules_request_builder import (  # noqa: E501
        EligibilitySchedulesRequestBuilder,
    )
    from msgraph.generated.models.expiration_pattern import ExpirationPattern
    from msgraph.generated.models.expiration_pattern_type import ExpirationPatternType
    from msgraph.generated.models.privileged_access_group_eligibility_schedule_request import (
        PrivilegedAccessGroupEligibilityScheduleRequest,
    )
    from msgraph.generated.models.privileged_access_group_relationships import (
        PrivilegedAccessGroupRelationships,
    )
    from msgraph.generated.models.request_schedule import RequestSchedule
    from msgraph.generated.models.schedule_request_actions import ScheduleRequestActions

    group = sdk.identity_governance.privileged_access.group
    body = PrivilegedAccessGroupEligibilityScheduleRequest(
        access_id=PrivilegedAccessGroupRelationships.Member,
        principal_id=USER,
        group_id=GROUP,
        action=ScheduleRequestActions.AdminAssign,
        justification="Assign eligible request.",
        schedule_info=RequestSchedule(
            start_date_time=datetime.fromisoformat("2023-02-06T19:25:00+00:00"),
            expiration=ExpirationPattern(
                type=ExpirationPatternType.AfterDateTime,
                end_date_time=datetime.fromisoformat("2023-02-07T19:56:00+00:00"),
            ),
        ),
    )
    made = await group.eligibility_schedule_requests.post(body)
    assert made.status == "Provisioned"
    assert made.target_schedule_id == f"{GROUP}_member_{made.id}"
    query = EligibilitySchedulesRequestBuilder.EligibilitySchedulesRequestBuilderGetQueryParameters(
        filter=f"groupId eq '{GROUP}' and principalId eq '{USER}'"
    )
    listed = await group.eligibility_schedules.get(RequestConfiguration(query_parameters=query))
    assert [s.id for s in listed.value] == [made.target_schedule_id]
    with pytest.raises(ODataError) as caught:
        await group.eligibility_schedule_requests.post(body)
    assert (caught.value.response_status_code, caught.value.error.code) == (400, "RoleAssignmentExists")


async def test_sdk_policy_rule_patch(sdk: Any, world: None) -> None:
    from datetime import timedelta

    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.models.unified_role_management_policy_expiration_rule import (
        UnifiedRoleManagementPolicyExpirationRule,
    )
    from msgraph.generated.policies.role_management_policy_assignments.role_management_policy_assignments_request_builder import (  # noqa: E501
        RoleManagementPolicyAssignmentsRequestBuilder,
    )

    builder = RoleManagementPolicyAssignmentsRequestBuilder
    query = builder.RoleManagementPolicyAssignmentsRequestBuilderGetQueryParameters(
        filter=f"scopeId eq '{GROUP}' and scopeType eq 'Group' and roleDefinitionId eq 'member'",
        expand=["policy($expand=rules)"],
    )
    found = await sdk.policies.role_management_policy_assignments.get(
        RequestConfiguration(query_parameters=query)
    )
    [assignment] = found.value
    assert len(assignment.policy.rules) == 17
    rules = sdk.policies.role_management_policies.by_unified_role_management_policy_id(
        assignment.policy_id
    ).rules
    rule = rules.by_unified_role_management_policy_rule_id("Expiration_EndUser_Assignment")
    with pytest.raises(ODataError) as caught:  # a timedelta goes out as "0:30:00": refused
        await rule.patch(
            UnifiedRoleManagementPolicyExpirationRule(
                id="Expiration_EndUser_Assignment",
                is_expiration_required=True,
                maximum_duration=timedelta(minutes=30),
            )
        )
    assert caught.value.response_status_code == 400
    done = await rule.patch(
        UnifiedRoleManagementPolicyExpirationRule(
            id="Expiration_EndUser_Assignment", is_expiration_required=True, maximum_duration="PT30M"
        )
    )
    assert done.maximum_duration == timedelta(minutes=30)
