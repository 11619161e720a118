"""Activation (selfActivate / selfDeactivate) checked against the member policy in force, and the clock.

Rule ids and shapes: identity-governance-pim-rules-overview; activity names: entra-docs
reference-audit-activities.md (PIM, GroupManagement).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from graphsim.errors import GraphError
from graphsim.pim import Caller, PimBackend, build
from graphsim.pim.fakes import InMemoryDirectory

USER = "3cce9d87-3986-4f19-8335-7ed075408ca2"
APPROVER = "c277c8cb-6bb7-42e5-a17f-0add9a718151"
GROUP = "2b5ed229-4072-478d-9504-a047ebd4b07d"
RULE = "#microsoft.graph.unifiedRoleManagementPolicy"


@pytest.fixture
def directory() -> InMemoryDirectory:
    d = InMemoryDirectory(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    d.add_user(USER, "Alex Wilber")
    d.add_user(APPROVER, "Nestor Wilke")
    d.add_group(GROUP, "FinReport-SeniorAnalyst-SecureAccess")
    return d


@pytest.fixture
def pim(directory: InMemoryDirectory) -> PimBackend:
    backend = build(directory)
    backend.create_request(
        "eligibility",
        {
            "accessId": "member",
            "principalId": USER,
            "groupId": GROUP,
            "action": "adminAssign",
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "P30D"}},
        },
        Caller(),
    )
    return backend


def member_rule(pim: PimBackend, rule_id: str, body: dict[str, Any]) -> None:
    [assignment] = pim.list_policy_assignments(
        f"scopeId eq '{GROUP}' and scopeType eq 'Group' and roleDefinitionId eq 'member'"
    )
    pim.update_rules(assignment["policyId"], {rule_id: body}, Caller())


def activate(duration: str = "PT1H", **extra: Any) -> dict[str, Any]:
    body = {
        "accessId": "member",
        "principalId": USER,
        "groupId": GROUP,
        "action": "selfActivate",
        "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": duration}},
        "justification": "Month-end close",
    }
    body.update(extra)
    return body


def deactivate() -> dict[str, Any]:
    return {"accessId": "member", "principalId": USER, "groupId": GROUP, "action": "selfDeactivate"}


def failure(pim: PimBackend, body: dict[str, Any], caller: Caller | None = None) -> GraphError:
    with pytest.raises(GraphError) as caught:
        pim.create_request("assignment", body, caller or Caller(user_id=USER))
    return caught.value


def test_longer_than_policy_maximum_is_refused(pim: PimBackend, directory: InMemoryDirectory) -> None:
    member_rule(
        pim,
        "Expiration_EndUser_Assignment",
        {"@odata.type": RULE + "ExpirationRule", "maximumDuration": "PT30M"},
    )
    err = failure(pim, activate("PT1H"))
    assert (err.status, err.code) == (400, "RoleAssignmentRequestPolicyValidationFailed")
    assert err.message == 'The following policy rules failed: ["ExpirationRule"]'
    assert (
        pim.create_request("assignment", activate("PT30M"), Caller(user_id=USER))["status"] == "Provisioned"
    )


def test_activation_is_capped_at_eight_hours(pim: PimBackend) -> None:
    member_rule(
        pim,
        "Expiration_EndUser_Assignment",
        {"@odata.type": RULE + "ExpirationRule", "maximumDuration": "PT24H"},
    )
    assert failure(pim, activate("PT9H")).message == 'The following policy rules failed: ["ExpirationRule"]'


def test_activation_without_end_lasts_the_policy_maximum(
    pim: PimBackend, directory: InMemoryDirectory
) -> None:
    member_rule(
        pim,
        "Expiration_EndUser_Assignment",
        {"@odata.type": RULE + "ExpirationRule", "maximumDuration": "PT30M"},
    )
    body = activate()
    body["scheduleInfo"] = {"startDateTime": "2025-03-03T09:00:00Z"}
    got = pim.create_request("assignment", body, Caller(user_id=USER))
    assert got["scheduleInfo"]["expiration"] == {
        "type": "afterDuration",
        "endDateTime": None,
        "duration": "PT30M",
    }
    pim.tick(directory.advance(timedelta(minutes=31)))
    assert directory.members[GROUP] == set()


def test_missing_justification_is_refused(pim: PimBackend) -> None:
    body = activate()
    del body["justification"]
    assert failure(pim, body).message == 'The following policy rules failed: ["JustificationRule"]'


def test_ticket_required(pim: PimBackend) -> None:
    member_rule(
        pim,
        "Enablement_EndUser_Assignment",
        {"@odata.type": RULE + "EnablementRule", "enabledRules": ["Justification", "Ticketing"]},
    )
    assert failure(pim, activate()).message == 'The following policy rules failed: ["TicketingRule"]'
    ticketed = activate(ticketInfo={"ticketNumber": "CHG0042", "ticketSystem": "ServiceNow"})
    got = pim.create_request("assignment", ticketed, Caller(user_id=USER))
    assert got["ticketInfo"] == {"ticketNumber": "CHG0042", "ticketSystem": "ServiceNow"}


def test_mfa_required_needs_the_mfa_claim(pim: PimBackend, directory: InMemoryDirectory) -> None:
    member_rule(
        pim,
        "Enablement_EndUser_Assignment",
        {
            "@odata.type": RULE + "EnablementRule",
            "enabledRules": ["MultiFactorAuthentication", "Justification"],
        },
    )
    body = activate()
    del body["justification"]
    assert failure(pim, body).message == 'The following policy rules failed: ["JustificationRule","MfaRule"]'
    pim.create_request("assignment", activate(), Caller(user_id=USER, mfa=True))
    assert directory.members[GROUP] == {USER}


def test_authentication_context_needs_the_claim(pim: PimBackend, directory: InMemoryDirectory) -> None:
    member_rule(
        pim,
        "AuthenticationContext_EndUser_Assignment",
        {"@odata.type": RULE + "AuthenticationContextRule", "isEnabled": True, "claimValue": "c1"},
    )
    assert failure(pim, activate()).code == "RoleAssignmentRequestAcrsValidationFailed"
    pim.create_request("assignment", activate(), Caller(user_id=USER, acrs=frozenset({"c1"})))
    assert directory.members[GROUP] == {USER}


def test_no_eligibility_no_activation(pim: PimBackend, directory: InMemoryDirectory) -> None:
    other = "0b7b5bd3-0000-4000-8000-000000000001"
    directory.add_user(other, "Lee Gu")
    err = failure(pim, activate(principalId=other), Caller(user_id=other))
    assert err.message == 'The following policy rules failed: ["EligibilityRule"]'
    assert directory.members.get(GROUP, set()) == set()


def test_activation_twice_is_role_assignment_exists(pim: PimBackend) -> None:
    pim.create_request("assignment", activate(), Caller(user_id=USER))
    assert failure(pim, activate()).code == "RoleAssignmentExists"


def require_approval(pim: PimBackend) -> None:
    member_rule(
        pim,
        "Approval_EndUser_Assignment",
        {
            "@odata.type": RULE + "ApprovalRule",
            "setting": {
                "isApprovalRequired": True,
                "approvalStages": [
                    {
                        "approvalStageTimeOutInDays": 1,
                        "isApproverJustificationRequired": True,
                        "escalationTimeInMinutes": 0,
                        "isEscalationEnabled": False,
                        "escalationApprovers": [],
                        "primaryApprovers": [
                            {"@odata.type": "#microsoft.graph.singleUser", "userId": APPROVER}
                        ],
                    }
                ],
            },
        },
    )


def test_approval_pending_then_approved(pim: PimBackend, directory: InMemoryDirectory) -> None:
    require_approval(pim)
    got = pim.create_request("assignment", activate(), Caller(user_id=USER))
    assert (got["status"], got["approvalId"]) == ("PendingApproval", got["id"])
    assert directory.members.get(GROUP, set()) == set()
    assert not pim.is_active_member(GROUP, USER, directory.now())
    assert failure(pim, activate()).code == "PendingRoleAssignmentRequest"
    directory.advance(timedelta(minutes=10))
    decided = pim.decide_approval(got["approvalId"], True, APPROVER, "ok")
    assert decided["status"] == "Provisioned"
    assert decided["scheduleInfo"]["startDateTime"] == "2025-03-03T09:10:00.0000000Z"
    assert directory.members[GROUP] == {USER}
    assert pim.get_approval(got["approvalId"])["stages"][0]["reviewResult"] == "Approve"
    names = directory.activities()
    assert names[-4:] == [
        "Add member to role requested (PIM activation)",
        "Add member to role approval requested (PIM activation)",
        "Add member to role request approved (PIM activation)",
        "Add member to role completed (PIM activation)",
    ]
    pim.tick(directory.advance(timedelta(minutes=61)))
    assert directory.members[GROUP] == set()


def test_approval_denied(pim: PimBackend, directory: InMemoryDirectory) -> None:
    require_approval(pim)
    got = pim.create_request("assignment", activate(), Caller(user_id=USER))
    assert pim.decide_approval(got["approvalId"], False, APPROVER)["status"] == "Denied"
    assert directory.members.get(GROUP, set()) == set()
    assert directory.activities()[-1] == "Add member to role request denied (PIM activation)"
    with pytest.raises(GraphError):
        pim.decide_approval(got["approvalId"], True, APPROVER)


def test_pending_approval_expires_by_the_clock(pim: PimBackend, directory: InMemoryDirectory) -> None:
    require_approval(pim)
    got = pim.create_request("assignment", activate(), Caller(user_id=USER))
    pim.tick(directory.advance(timedelta(days=1)))
    assert pim.get_request("assignment", got["id"])["status"] == "Canceled"
    assert directory.activities()[-1] == "PIM activation request expired"


def test_pending_request_can_be_canceled(pim: PimBackend, directory: InMemoryDirectory) -> None:
    require_approval(pim)
    got = pim.create_request("assignment", activate(), Caller(user_id=USER))
    pim.cancel_request("assignment", got["id"], Caller(user_id=USER))
    assert pim.get_request("assignment", got["id"])["status"] == "Canceled"
    assert directory.activities()[-1] == "Add member to role canceled (PIM activation)"
    with pytest.raises(GraphError) as caught:
        pim.cancel_request("assignment", got["id"], Caller(user_id=USER))
    assert caught.value.status == 400


def test_expiry_by_the_clock_removes_the_member(pim: PimBackend, directory: InMemoryDirectory) -> None:
    got = pim.create_request("assignment", activate("PT30M"), Caller(user_id=USER))
    assert pim.is_active_member(GROUP, USER, directory.now())
    pim.tick(directory.advance(timedelta(minutes=29)))
    assert directory.members[GROUP] == {USER}
    pim.tick(directory.advance(timedelta(minutes=1)))
    assert directory.members[GROUP] == set()
    assert not pim.is_active_member(GROUP, USER, directory.now())
    assert pim.list_instances("assignment", f"groupId eq '{GROUP}'") == []
    last = directory.audit[-1]
    assert last["activityDisplayName"] == "Remove member from role (PIM activation expired)"
    assert (last["loggedByService"], last["category"], last["result"]) == (
        "PIM",
        "GroupManagement",
        "success",
    )
    assert [(t["id"], t["type"]) for t in last["targetResources"]] == [(GROUP, "Group"), (USER, "User")]
    assert last["correlationId"] == got["id"]


def test_self_deactivate_ends_it_now(pim: PimBackend, directory: InMemoryDirectory) -> None:
    pim.create_request("assignment", activate(), Caller(user_id=USER))
    assert failure(pim, deactivate()).code == "ActiveDurationTooShort"
    directory.advance(timedelta(minutes=5))
    assert pim.create_request("assignment", deactivate(), Caller(user_id=USER))["status"] == "Revoked"
    assert directory.members[GROUP] == set()
    assert directory.activities()[-2:] == [
        "Remove member from role requested (PIM deactivate)",
        "Remove member from role completed (PIM deactivate)",
    ]
    assert failure(pim, deactivate()).code == "RoleAssignmentDoesNotExist"


def test_eligibility_expires_by_the_clock(pim: PimBackend, directory: InMemoryDirectory) -> None:
    pim.tick(directory.advance(timedelta(days=30)))
    assert pim.list_schedules("eligibility", f"groupId eq '{GROUP}'") == []
    assert failure(pim, activate()).message == 'The following policy rules failed: ["EligibilityRule"]'


def test_activation_audit_carries_justification_and_ticket(
    pim: PimBackend, directory: InMemoryDirectory
) -> None:
    body = activate(ticketInfo={"ticketNumber": "INC7", "ticketSystem": "Jira"})
    pim.create_request("assignment", body, Caller(user_id=USER))
    entry = next(
        e
        for e in directory.audit
        if e["activityDisplayName"] == "Add member to role completed (PIM activation)"
    )
    details = {d["key"]: d["value"] for d in entry["additionalDetails"]}
    assert details["Justification"] == "Month-end close"
    assert (details["TicketNumber"], details["TicketSystem"]) == ("INC7", "Jira")
    assert entry["initiatedBy"]["user"]["id"] == USER
