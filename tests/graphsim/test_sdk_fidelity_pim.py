"""Documented PIM for Groups and group policy examples replayed through the real msgraph-sdk.

Each test names its page in microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/, seeds exactly
the group, user, policies and schedules the example names (ids kept), and asserts what the SDK parsed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.identity_governance.privileged_access.group.assignment_schedule_instances.assignment_schedule_instances_request_builder import (  # noqa: E501
    AssignmentScheduleInstancesRequestBuilder as AssignmentInstances,
)
from msgraph.generated.identity_governance.privileged_access.group.eligibility_schedule_instances.eligibility_schedule_instances_request_builder import (  # noqa: E501
    EligibilityScheduleInstancesRequestBuilder as EligibilityInstances,
)
from msgraph.generated.identity_governance.privileged_access.group.eligibility_schedules.eligibility_schedules_request_builder import (  # noqa: E501
    EligibilitySchedulesRequestBuilder as EligibilitySchedules,
)
from msgraph.generated.models.expiration_pattern import ExpirationPattern
from msgraph.generated.models.expiration_pattern_type import ExpirationPatternType
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.privileged_access_group_assignment_schedule_request import (
    PrivilegedAccessGroupAssignmentScheduleRequest,
)
from msgraph.generated.models.privileged_access_group_assignment_type import (
    PrivilegedAccessGroupAssignmentType as AssignmentType,
)
from msgraph.generated.models.privileged_access_group_eligibility_schedule_request import (
    PrivilegedAccessGroupEligibilityScheduleRequest,
)
from msgraph.generated.models.privileged_access_group_member_type import (
    PrivilegedAccessGroupMemberType as MemberType,
)
from msgraph.generated.models.privileged_access_group_relationships import PrivilegedAccessGroupRelationships
from msgraph.generated.models.request_schedule import RequestSchedule
from msgraph.generated.models.schedule_request_actions import ScheduleRequestActions
from msgraph.generated.models.unified_role_management_policy_expiration_rule import (
    UnifiedRoleManagementPolicyExpirationRule,
)
from msgraph.generated.policies.role_management_policy_assignments.role_management_policy_assignments_request_builder import (  # noqa: E501
    RoleManagementPolicyAssignmentsRequestBuilder as PolicyAssignments,
)

from tests.graphsim.conftest import seed

# policyroot-list-rolemanagementpolicyassignments.md, examples 3 and 4
POLICY_GROUP = "60bba733-f09d-49b7-8445-32369aa066b3"
MEMBER_POLICY = f"Group_{POLICY_GROUP}_f21b26d9-9ff9-4af1-b1d4-bddf28591369"
OWNER_POLICY = f"Group_{POLICY_GROUP}_8ea17f58-323f-4b16-a1a1-2a7b8d974316"
# privilegedaccessgroup-post-eligibilityschedulerequests.md / -assignmentschedulerequests.md, example 1
USER = "3cce9d87-3986-4f19-8335-7ed075408ca2"
GROUP = "2b5ed229-4072-478d-9504-a047ebd4b07d"
NOW = datetime(2023, 2, 7, 6, 57, 54, tzinfo=UTC)


def _group(group_id: str, name: str) -> dict[str, Any]:
    return {
        "id": group_id,
        "displayName": name,
        "securityEnabled": True,
        "mailEnabled": False,
        "groupTypes": [],
    }


def _policy(policy_id: str, role: str) -> tuple[dict[str, Any], dict[str, Any]]:
    policy = {
        "id": policy_id,
        "displayName": "Group",
        "description": "Group",
        "isOrganizationDefault": False,
        "scopeId": POLICY_GROUP,
        "scopeType": "Group",
        "lastModifiedDateTime": None,
        "lastModifiedBy": {"displayName": None, "id": None},
    }
    assignment = {
        "id": f"{policy_id}_{role}",
        "policyId": policy_id,
        "scopeId": POLICY_GROUP,
        "scopeType": "Group",
        "roleDefinitionId": role,
    }
    return policy, assignment


@pytest.fixture
async def world(ctl: Any) -> None:
    member, member_assignment = _policy(MEMBER_POLICY, "member")
    owner, owner_assignment = _policy(OWNER_POLICY, "owner")
    await seed(
        ctl,
        {
            "users": [{"id": USER, "displayName": "Alex Wilber", "userPrincipalName": "alexw@contoso.com"}],
            "groups": [
                _group(GROUP, "FinReport-SeniorAnalyst-SecureAccess"),
                _group(POLICY_GROUP, "Payroll"),
            ],
            "roleManagementPolicies": [member, owner],
            "roleManagementPolicyAssignments": [member_assignment, owner_assignment],
        },
    )
    resp = await ctl.post("/clock", json={"now": "2023-02-07T06:57:54Z"})
    assert resp.status_code in (200, 204), resp.text


def _config(builder: Any, **query: Any) -> RequestConfiguration[Any]:
    params = getattr(builder, f"{builder.__name__}GetQueryParameters")(**query)
    return RequestConfiguration(query_parameters=params)


async def test_policy_assignments_example_3(sdk: Any, world: None) -> None:
    """Example 3: $filter on scopeId and scopeType: the member and the owner assignment, ids as documented."""
    found = await sdk.policies.role_management_policy_assignments.get(
        _config(PolicyAssignments, filter=f"scopeId eq '{POLICY_GROUP}' and scopeType eq 'Group'")
    )
    got = sorted((a.id, a.policy_id, a.scope_id, a.scope_type, a.role_definition_id) for a in found.value)
    assert got == sorted(
        [
            (f"{MEMBER_POLICY}_member", MEMBER_POLICY, POLICY_GROUP, "Group", "member"),
            (f"{OWNER_POLICY}_owner", OWNER_POLICY, POLICY_GROUP, "Group", "owner"),
        ]
    )
    assert all(a.policy is None for a in found.value)  # not expanded


async def test_policy_assignment_with_policy_and_rules_example_4(sdk: Any, world: None) -> None:
    """Example 4: roleDefinitionId eq 'owner' and $expand=policy($expand=rules): 17 typed rules."""
    found = await sdk.policies.role_management_policy_assignments.get(
        _config(
            PolicyAssignments,
            filter=f"scopeId eq '{POLICY_GROUP}' and scopeType eq 'Group' and roleDefinitionId eq 'owner'",
            expand=["policy($expand=rules)"],
        )
    )
    [assignment] = found.value
    policy = assignment.policy
    assert (policy.id, policy.display_name, policy.description) == (OWNER_POLICY, "Group", "Group")
    assert (policy.is_organization_default, policy.scope_type) == (False, "Group")
    rules = {r.id: r for r in policy.rules}
    assert len(rules) == 17
    expiration = rules["Expiration_Admin_Eligibility"]
    assert isinstance(expiration, UnifiedRoleManagementPolicyExpirationRule)
    assert (expiration.is_expiration_required, expiration.maximum_duration) == (True, timedelta(days=365))
    assert (expiration.target.caller, expiration.target.level) == ("Admin", "Eligibility")
    assert rules["Expiration_EndUser_Assignment"].maximum_duration == timedelta(hours=8)
    assert rules["Enablement_EndUser_Assignment"].enabled_rules == ["Justification"]
    assert rules["AuthenticationContext_EndUser_Assignment"].is_enabled is False
    assert (
        rules["Approval_EndUser_Assignment"].setting.approval_stages[0].approval_stage_time_out_in_days == 1
    )
    assert rules["Notification_Approver_EndUser_Assignment"].recipient_type == "Approver"


async def test_rule_update_refuses_timedelta_and_takes_iso_duration(sdk: Any, world: None) -> None:
    """unifiedrolemanagementpolicyrule-update.md: PATCH the expiration rule of the documented member policy.

    A Python timedelta goes out as "0:30:00", which is not an Edm.Duration: 400, nothing changed.
    The ISO 8601 string "PT30M" is accepted and read back as 30 minutes; the policy id is kept (seeded =
    already onboarded)."""
    policy = sdk.policies.role_management_policies.by_unified_role_management_policy_id(MEMBER_POLICY)
    rule = policy.rules.by_unified_role_management_policy_rule_id("Expiration_EndUser_Assignment")
    with pytest.raises(ODataError) as caught:
        await rule.patch(
            UnifiedRoleManagementPolicyExpirationRule(
                id="Expiration_EndUser_Assignment",
                is_expiration_required=True,
                maximum_duration=timedelta(minutes=30),
            )
        )
    assert caught.value.response_status_code == 400
    assert (await rule.get()).maximum_duration == timedelta(hours=8)
    done = await rule.patch(
        UnifiedRoleManagementPolicyExpirationRule(
            id="Expiration_EndUser_Assignment", is_expiration_required=True, maximum_duration="PT30M"
        )
    )
    assert (done.id, done.is_expiration_required, done.maximum_duration) == (
        "Expiration_EndUser_Assignment",
        True,
        timedelta(minutes=30),
    )
    assert (await rule.get()).maximum_duration == timedelta(minutes=30)


def _schedule(expiration: ExpirationPattern, start: str) -> RequestSchedule:
    return RequestSchedule(start_date_time=datetime.fromisoformat(start), expiration=expiration)


async def test_eligibility_request_schedules_and_instances(sdk: Any, world: None) -> None:
    """privilegedaccessgroup-post-eligibilityschedulerequests.md example 1, then
    privilegedaccessgroup-list-eligibilityschedules.md and -list-eligibilityscheduleinstances.md ($filter)."""
    group = sdk.identity_governance.privileged_access.group
    made = await group.eligibility_schedule_requests.post(
        PrivilegedAccessGroupEligibilityScheduleRequest(
            access_id=PrivilegedAccessGroupRelationships.Member,
            principal_id=USER,
            group_id=GROUP,
            action=ScheduleRequestActions.AdminAssign,
            justification="Assign eligible request.",
            schedule_info=_schedule(
                ExpirationPattern(
                    type=ExpirationPatternType.AfterDateTime,
                    end_date_time=datetime.fromisoformat("2023-02-07T19:56:00+00:00"),
                ),
                "2023-02-06T19:25:00+00:00",
            ),
        )
    )
    assert (made.status, made.action, made.is_validation_only) == (
        "Provisioned",
        ScheduleRequestActions.AdminAssign,
        False,
    )
    assert (made.access_id, made.principal_id, made.group_id) == (
        PrivilegedAccessGroupRelationships.Member,
        USER,
        GROUP,
    )
    assert made.justification == "Assign eligible request."
    assert made.target_schedule_id == f"{GROUP}_member_{made.id}"
    assert made.schedule_info.start_date_time == NOW  # a start in the past moves to the server's time
    assert made.schedule_info.expiration.type == ExpirationPatternType.AfterDateTime
    assert made.schedule_info.expiration.end_date_time == datetime(2023, 2, 7, 19, 56, tzinfo=UTC)
    scoped = f"groupId eq '{GROUP}' and principalId eq '{USER}'"
    schedules = await group.eligibility_schedules.get(_config(EligibilitySchedules, filter=scoped))
    [schedule] = schedules.value
    assert (schedule.id, schedule.status, schedule.member_type) == (
        made.target_schedule_id,
        "Provisioned",
        MemberType.Direct,
    )
    instances = await group.eligibility_schedule_instances.get(
        _config(EligibilityInstances, filter=f"groupId eq '{GROUP}'")
    )
    [instance] = instances.value
    assert (instance.principal_id, instance.eligibility_schedule_id) == (USER, made.target_schedule_id)
    assert instance.end_date_time == datetime(2023, 2, 7, 19, 56, tzinfo=UTC)


async def test_assignment_request_and_instances(sdk: Any, world: None) -> None:
    """privilegedaccessgroup-post-assignmentschedulerequests.md example 1 (2 h active membership), then
    privilegedaccessgroup-list-assignmentscheduleinstances.md with $filter, and the member it makes."""
    group = sdk.identity_governance.privileged_access.group
    made = await group.assignment_schedule_requests.post(
        PrivilegedAccessGroupAssignmentScheduleRequest(
            access_id=PrivilegedAccessGroupRelationships.Member,
            principal_id=USER,
            group_id=GROUP,
            action=ScheduleRequestActions.AdminAssign,
            justification="Assign active member access.",
            schedule_info=_schedule(
                ExpirationPattern(type=ExpirationPatternType.AfterDuration, duration="PT2H"),
                "2022-12-08T07:43:00+00:00",
            ),
        )
    )
    assert (made.status, made.action) == ("Provisioned", ScheduleRequestActions.AdminAssign)
    assert made.approval_id is None
    assert made.schedule_info.expiration.duration == timedelta(hours=2)
    instances = await group.assignment_schedule_instances.get(
        _config(AssignmentInstances, filter=f"groupId eq '{GROUP}' and principalId eq '{USER}'")
    )
    [instance] = instances.value
    assert (instance.assignment_type, instance.member_type) == (AssignmentType.Assigned, MemberType.Direct)
    assert (instance.start_date_time, instance.end_date_time) == (NOW, NOW + timedelta(hours=2))
    members = await sdk.groups.by_group_id(GROUP).members.get()
    assert [m.id for m in members.value] == [USER]


async def test_pim_list_unknown_select_is_400(sdk: Any, http: Any, world: None) -> None:
    """An unknown $select name is Graph's 400 on PIM lists too; a known one narrows the objects."""
    pim = "/identityGovernance/privilegedAccess/group/eligibilitySchedules"
    scoped = {"$filter": f"groupId eq '{GROUP}'"}
    bad = await http.get(pim, params={**scoped, "$select": "id,nope"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_BadRequest"
    assert "'microsoft.graph.privilegedAccessGroupEligibilitySchedule'" in bad.json()["error"]["message"]
    good = await http.get(pim, params={**scoped, "$select": "id,groupId"})
    assert good.status_code == 200 and good.json()["value"] == []
    with pytest.raises(ODataError) as caught:
        await sdk.policies.role_management_policy_assignments.get(
            _config(
                PolicyAssignments,
                filter=f"scopeId eq '{POLICY_GROUP}' and scopeType eq 'Group'",
                select=["nope"],
            )
        )
    assert (caught.value.response_status_code, caught.value.error.code) == (400, "Request_BadRequest")
