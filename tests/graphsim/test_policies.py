"""Role management policies of groups: defaults, onboarding id change, rule PATCH for every type.

Examples: policyroot-list-rolemanagementpolicyassignments.md (examples 3 and 4),
unifiedrolemanagementpolicy-update.md (example 2), unifiedrolemanagementpolicyrule-update.md,
privilegedidentitymanagement-for-groups-api-overview.md ("Onboarding groups to PIM for Groups").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from graphsim.errors import GraphError
from graphsim.pim import Caller, PimBackend, build
from graphsim.pim.fakes import InMemoryDirectory
from graphsim.pim.rules import RULE_SPECS

GROUP = "60bba733-f09d-49b7-8445-32369aa066b3"
DYNAMIC = "7e526275-97a8-4dc6-932a-4db521cccf96"
USER = "c277c8cb-6bb7-42e5-a17f-0add9a718151"
NS = "#microsoft.graph.unifiedRoleManagementPolicy"
SCOPE = f"scopeId eq '{GROUP}' and scopeType eq 'Group'"
TARGET_EU = {
    "caller": "EndUser",
    "operations": ["All"],
    "level": "Assignment",
    "inheritableSettings": [],
    "enforcedSettings": [],
}


@pytest.fixture
def directory() -> InMemoryDirectory:
    d = InMemoryDirectory(datetime(2023, 10, 1, 23, 29, 43, tzinfo=UTC))
    d.add_user(USER, "Test User 1")
    d.add_group(GROUP, "FinReport-SeniorAnalyst-SecureAccess")
    d.add_group(DYNAMIC, "All Finance", dynamic=True)
    return d


@pytest.fixture
def pim(directory: InMemoryDirectory) -> PimBackend:
    return build(directory)


def member_policy_id(pim: PimBackend) -> str:
    [found] = pim.list_policy_assignments(SCOPE + " and roleDefinitionId eq 'member'")
    return str(found["policyId"])


def error_of(call: Any) -> GraphError:
    with pytest.raises(GraphError) as caught:
        call()
    return caught.value


def test_list_policy_assignments_for_a_group_example_3(pim: PimBackend) -> None:
    """Example 3: both assignments, ids Group_{groupId}_{guid}_{member|owner}."""
    found = pim.list_policy_assignments(SCOPE)
    assert [a["roleDefinitionId"] for a in found] == ["member", "owner"]
    for assignment in found:
        assert re.fullmatch(rf"Group_{GROUP}_[0-9a-f-]{{36}}", assignment["policyId"])
        assert assignment["id"] == f"{assignment['policyId']}_{assignment['roleDefinitionId']}"
        assert (assignment["scopeId"], assignment["scopeType"]) == (GROUP, "Group")
    assert found[0]["policyId"] != found[1]["policyId"]  # member and owner policies are separate


def test_owner_policy_with_rules_example_4(pim: PimBackend) -> None:
    """Example 4: 17 rules with the documented group defaults."""
    [assignment] = pim.list_policy_assignments(SCOPE + " and roleDefinitionId eq 'owner'")
    policy = pim.get_policy(assignment["policyId"])
    assert {
        k: policy[k]
        for k in (
            "displayName",
            "description",
            "isOrganizationDefault",
            "scopeType",
            "lastModifiedDateTime",
            "lastModifiedBy",
        )
    } == {
        "displayName": "Group",
        "description": "Group",
        "isOrganizationDefault": False,
        "scopeType": "Group",
        "lastModifiedDateTime": None,
        "lastModifiedBy": {"displayName": None, "id": None},
    }
    rules = {r["id"]: r for r in policy["rules"]}
    assert list(rules) == list(RULE_SPECS)
    assert rules["Expiration_Admin_Eligibility"] == {
        "@odata.type": NS + "ExpirationRule",
        "id": "Expiration_Admin_Eligibility",
        "isExpirationRequired": True,
        "maximumDuration": "P365D",
        "target": {
            "caller": "Admin",
            "operations": ["All"],
            "level": "Eligibility",
            "inheritableSettings": [],
            "enforcedSettings": [],
        },
    }
    assert rules["Expiration_Admin_Assignment"]["maximumDuration"] == "P180D"
    assert rules["Expiration_EndUser_Assignment"]["maximumDuration"] == "PT8H"
    assert rules["Enablement_EndUser_Assignment"]["enabledRules"] == ["Justification"]
    assert (
        rules["Approval_EndUser_Assignment"]["setting"]["approvalStages"][0]["approvalStageTimeOutInDays"]
        == 1
    )
    assert rules["AuthenticationContext_EndUser_Assignment"] == {
        "@odata.type": NS + "AuthenticationContextRule",
        "id": "AuthenticationContext_EndUser_Assignment",
        "isEnabled": False,
        "claimValue": None,
        "target": TARGET_EU,
    }
    assert rules["Notification_Approver_EndUser_Assignment"]["recipientType"] == "Approver"


def test_policies_list_by_scope(pim: PimBackend) -> None:
    policies = pim.list_policies(SCOPE)
    assert {p["id"] for p in policies} == {a["policyId"] for a in pim.list_policy_assignments(SCOPE)}


@pytest.mark.parametrize(
    "text", [None, f"scopeId eq '{GROUP}'", "scopeType eq 'Group'", "scopeId eq 'x' or y"]
)
def test_policy_lists_require_scope_id_and_type(pim: PimBackend, text: str | None) -> None:
    assert error_of(lambda: pim.list_policy_assignments(text)).status == 400
    assert error_of(lambda: pim.list_policies(text)).status == 400


def test_dynamic_or_unknown_groups_have_no_policies(pim: PimBackend) -> None:
    assert pim.list_policy_assignments(f"scopeId eq '{DYNAMIC}' and scopeType eq 'Group'") == []
    assert pim.list_policy_assignments("scopeId eq 'nope' and scopeType eq 'Group'") == []


def test_first_schedule_request_onboards_and_changes_ids(
    pim: PimBackend, directory: InMemoryDirectory
) -> None:
    before = pim.list_policy_assignments(SCOPE)
    assert before == pim.list_policy_assignments(SCOPE)  # stable until onboarding
    pim.create_request(
        "eligibility",
        {
            "accessId": "member",
            "principalId": USER,
            "groupId": GROUP,
            "action": "adminAssign",
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "P90D"}},
        },
        Caller(),
    )
    after = pim.list_policy_assignments(SCOPE)
    assert {a["id"] for a in after}.isdisjoint({a["id"] for a in before})
    assert {a["policyId"] for a in after}.isdisjoint({a["policyId"] for a in before})
    assert error_of(lambda: pim.get_policy(before[0]["policyId"])).status == 404
    assert error_of(lambda: pim.get_policy_assignment(before[0]["id"])).status == 404
    pim.create_request(
        "eligibility",
        {
            "accessId": "owner",
            "principalId": USER,
            "groupId": GROUP,
            "action": "adminAssign",
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "P90D"}},
        },
        Caller(),
    )
    assert pim.list_policy_assignments(SCOPE) == after  # onboarded once, no offboarding
    assert directory.activities().count("Onboarded resource to PIM") == 1


def test_first_rule_update_onboards_and_answers_with_the_new_id(
    pim: PimBackend, directory: InMemoryDirectory
) -> None:
    old = member_policy_id(pim)
    new = pim.update_rules(
        old,
        {
            "Expiration_EndUser_Assignment": {
                "@odata.type": NS + "ExpirationRule",
                "id": "Expiration_EndUser_Assignment",
                "isExpirationRequired": True,
                "maximumDuration": "PT30M",
                "target": TARGET_EU,
            }
        },
        Caller(user_id=USER),
    )
    assert new != old and new == member_policy_id(pim)
    assert pim.get_rule(new, "Expiration_EndUser_Assignment")["maximumDuration"] == "PT30M"
    assert pim.get_policy(new)["lastModifiedDateTime"] == "2023-10-01T23:29:43Z"
    assert pim.get_policy(new)["lastModifiedBy"] == {"displayName": "Test User 1", "id": None}
    assert directory.activities() == ["Onboarded resource to PIM", "Update role setting in PIM"]


def test_failed_rule_update_does_not_onboard(pim: PimBackend) -> None:
    old = member_policy_id(pim)
    error_of(
        lambda: pim.update_rules(
            old, {"Expiration_EndUser_Assignment": {"maximumDuration": "PT1H"}}, Caller()
        )
    )
    assert member_policy_id(pim) == old


PATCHES = {
    "Expiration_EndUser_Assignment": {
        "@odata.type": NS + "ExpirationRule",
        "id": "Expiration_EndUser_Assignment",
        "isExpirationRequired": True,
        "maximumDuration": "PT1H45M",
        "target": {"@odata.type": "microsoft.graph.unifiedRoleManagementPolicyRuleTarget", **TARGET_EU},
    },
    "Enablement_EndUser_Assignment": {
        "@odata.type": NS + "EnablementRule",
        "enabledRules": ["MultiFactorAuthentication", "Justification"],
    },
    "Approval_EndUser_Assignment": {
        "@odata.type": NS + "ApprovalRule",
        "setting": {
            "isApprovalRequired": True,
            "approvalStages": [
                {
                    "approvalStageTimeOutInDays": 1,
                    "primaryApprovers": [
                        {
                            "@odata.type": "#microsoft.graph.singleUser",
                            "isBackup": False,
                            "id": USER,
                            "description": None,
                        }
                    ],
                }
            ],
        },
    },
    "AuthenticationContext_EndUser_Assignment": {
        "@odata.type": NS + "AuthenticationContextRule",
        "isEnabled": True,
        "claimValue": "c1",
    },
    "Notification_Admin_EndUser_Assignment": {
        "@odata.type": NS + "NotificationRule",
        "notificationLevel": "critical",
        "notificationRecipients": ["secops@contoso.com"],
        "isDefaultRecipientsEnabled": False,
    },
}


@pytest.mark.parametrize("rule_id", list(PATCHES))
def test_patch_every_rule_type_merges(pim: PimBackend, rule_id: str) -> None:
    """unifiedrolemanagementpolicyrule-update.md: @odata.type required, partial bodies merged."""
    pid = pim.update_rules(member_policy_id(pim), {rule_id: PATCHES[rule_id]}, Caller())
    rule = pim.get_rule(pid, rule_id)
    for key, value in PATCHES[rule_id].items():
        if key not in ("target", "setting", "@odata.type", "notificationLevel"):
            assert rule[key] == value
    assert rule["target"]["caller"] == RULE_SPECS[rule_id][1][0]  # merged, kept
    if rule_id == "Approval_EndUser_Assignment":
        assert rule["setting"]["isApprovalRequired"] is True
        assert rule["setting"]["approvalMode"] == "SingleStage"  # untouched part kept
    if rule_id.startswith("Notification"):
        assert rule["notificationLevel"] == "Critical"


@pytest.mark.parametrize(
    "body",
    [
        {"maximumDuration": "PT30M"},  # no @odata.type
        {"@odata.type": NS + "EnablementRule", "maximumDuration": "PT30M"},  # wrong type
        {"@odata.type": NS + "ExpirationRule", "maximumDuration": "0:30:00"},  # str(timedelta)
        {"@odata.type": NS + "ExpirationRule", "maximumDuration": "P1Y"},
        {"@odata.type": NS + "ExpirationRule", "maximumDuration": 30},
        {"@odata.type": NS + "ExpirationRule", "isExpirationRequired": "yes"},
        {"@odata.type": NS + "ExpirationRule", "enabledRules": []},  # property of another type
        {"@odata.type": NS + "ExpirationRule", "id": "Enablement_EndUser_Assignment"},
        {"@odata.type": NS + "ExpirationRule", "target": "EndUser"},
        [],
    ],
)
def test_bad_rule_patch_is_400(pim: PimBackend, body: Any) -> None:
    err = error_of(
        lambda: pim.update_rules(member_policy_id(pim), {"Expiration_EndUser_Assignment": body}, Caller())
    )
    assert err.status == 400


@pytest.mark.parametrize(
    ("duration", "accepted"),
    [
        ("PT15M", False), ("PT29M", False), ("PT30M", True),
        ("PT24H", True), ("P1DT1M", False), ("PT25H", False),
    ],
)
def test_activation_maximum_must_be_half_an_hour_to_a_day(
    pim: PimBackend, duration: str, accepted: bool
) -> None:
    """PIM role settings: "from one to 24 hours"; the floor is 0.5 hours (MicrosoftDocs/azure-docs#51581).

    The refusal changes nothing: the rule keeps its value (and the group is not onboarded).
    """
    body = {"@odata.type": NS + "ExpirationRule", "maximumDuration": duration}
    policy_id = member_policy_id(pim)
    call = lambda: pim.update_rules(policy_id, {"Expiration_EndUser_Assignment": body}, Caller())  # noqa: E731
    if accepted:
        assert pim.get_rule(call(), "Expiration_EndUser_Assignment")["maximumDuration"] == duration
        return
    err = error_of(call)
    assert (err.status, err.code) == (400, "BadRequest")
    assert "PT30M to PT24H" in err.message
    assert pim.get_rule(policy_id, "Expiration_EndUser_Assignment")["maximumDuration"] == "PT8H"


def test_other_expiration_rules_are_not_bound_to_the_activation_range(pim: PimBackend) -> None:
    body = {"@odata.type": NS + "ExpirationRule", "maximumDuration": "P90D"}
    pid = pim.update_rules(member_policy_id(pim), {"Expiration_Admin_Eligibility": body}, Caller())
    assert pim.get_rule(pid, "Expiration_Admin_Eligibility")["maximumDuration"] == "P90D"


@pytest.mark.parametrize(
    "body",
    [
        {"@odata.type": NS + "EnablementRule", "enabledRules": ["Fingerprint"]},
        {"@odata.type": NS + "EnablementRule", "enabledRules": "Justification"},
    ],
)
def test_bad_enablement_values_are_400(pim: PimBackend, body: Any) -> None:
    err = error_of(
        lambda: pim.update_rules(member_policy_id(pim), {"Enablement_EndUser_Assignment": body}, Caller())
    )
    assert err.status == 400


def test_unknown_rule_or_policy_is_404(pim: PimBackend) -> None:
    assert error_of(lambda: pim.get_rule(member_policy_id(pim), "Nope")).status == 404
    assert error_of(lambda: pim.get_policy("Group_x_y")).status == 404


def test_mfa_and_authentication_context_conflict(pim: PimBackend) -> None:
    pid = pim.update_rules(
        member_policy_id(pim),
        {"AuthenticationContext_EndUser_Assignment": PATCHES["AuthenticationContext_EndUser_Assignment"]},
        Caller(),
    )
    err = error_of(
        lambda: pim.update_rules(
            pid, {"Enablement_EndUser_Assignment": PATCHES["Enablement_EndUser_Assignment"]}, Caller()
        )
    )
    assert (err.status, err.code) == (400, "MfaAndAcrsConflict")
    assert pim.get_rule(pid, "Enablement_EndUser_Assignment")["enabledRules"] == ["Justification"]


def test_enabling_context_while_mfa_is_on_is_accepted_as_observed(pim: PimBackend) -> None:
    pid = pim.update_rules(
        member_policy_id(pim),
        {"Enablement_EndUser_Assignment": PATCHES["Enablement_EndUser_Assignment"]},
        Caller(),
    )
    pim.update_rules(
        pid,
        {"AuthenticationContext_EndUser_Assignment": PATCHES["AuthenticationContext_EndUser_Assignment"]},
        Caller(),
    )
    assert pim.get_rule(pid, "AuthenticationContext_EndUser_Assignment")["isEnabled"] is True


def test_bulk_update_example_2_on_a_seeded_policy(pim: PimBackend) -> None:
    """unifiedrolemanagementpolicy-update.md example 2, replayed on the policy id it names."""
    pid = f"Group_{GROUP}_f21b26d9-9ff9-4af1-b1d4-bddf28591369"
    pim.seed(
        {
            "roleManagementPolicies": [
                {
                    "id": pid,
                    "displayName": "Group",
                    "description": "Group",
                    "isOrganizationDefault": False,
                    "scopeId": GROUP,
                    "scopeType": "Group",
                    "lastModifiedDateTime": None,
                    "lastModifiedBy": {"displayName": None, "id": None},
                }
            ],
            "roleManagementPolicyAssignments": [
                {
                    "id": f"{pid}_member",
                    "policyId": pid,
                    "scopeId": GROUP,
                    "scopeType": "Group",
                    "roleDefinitionId": "member",
                }
            ],
        }
    )
    bulk = {
        "Approval_EndUser_Assignment": {
            "@odata.type": NS + "ApprovalRule",
            "id": "Approval_EndUser_Assignment",
            "target": TARGET_EU,
            "setting": {
                "isApprovalRequired": True,
                "isApprovalRequiredForExtension": False,
                "isRequestorJustificationRequired": True,
                "approvalMode": "SingleStage",
                "approvalStages": [
                    {
                        "approvalStageTimeOutInDays": 1,
                        "isApproverJustificationRequired": True,
                        "escalationTimeInMinutes": 0,
                        "isEscalationEnabled": False,
                        "primaryApprovers": [
                            {
                                "@odata.type": "#microsoft.graph.singleUser",
                                "isBackup": False,
                                "id": USER,
                                "description": None,
                            }
                        ],
                        "escalationApprovers": [],
                    }
                ],
            },
        },
        "AuthenticationContext_EndUser_Assignment": {
            "@odata.type": NS + "AuthenticationContextRule",
            "id": "AuthenticationContext_EndUser_Assignment",
            "isEnabled": False,
            "claimValue": "",
            "target": TARGET_EU,
        },
        "Expiration_Admin_Eligibility": {
            "@odata.type": NS + "ExpirationRule",
            "id": "Expiration_Admin_Eligibility",
            "isExpirationRequired": True,
            "maximumDuration": "P365D",
        },
    }
    assert pim.update_rules(pid, bulk, Caller(user_id=USER)) == pid  # seeded = already onboarded
    policy = pim.get_policy(pid)
    assert policy["lastModifiedDateTime"] == "2023-10-01T23:29:43Z"
    assert (
        pim.get_rule(pid, "Approval_EndUser_Assignment")["setting"]
        == bulk["Approval_EndUser_Assignment"]["setting"]
    )


def test_bulk_update_is_all_or_nothing(pim: PimBackend) -> None:
    pid = member_policy_id(pim)
    bad = {
        "Expiration_EndUser_Assignment": {"@odata.type": NS + "ExpirationRule", "maximumDuration": "PT1H"},
        "Enablement_EndUser_Assignment": {"@odata.type": NS + "EnablementRule", "enabledRules": ["Nope"]},
    }
    error_of(lambda: pim.update_rules(pid, bad, Caller()))
    assert pim.get_rule(pid, "Expiration_EndUser_Assignment")["maximumDuration"] == "PT8H"
