"""PIM for Groups schedule requests, schedules and instances, replayed against the backend directly.

Documented examples come from microsoftgraph/microsoft-graph-docs-contrib api-reference/v1.0/api/
(file named on each test); behaviour tests cover the rules Graph enforces around them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from graphsim.errors import GraphError
from graphsim.pim import Caller, PimBackend, build
from graphsim.pim.fakes import InMemoryDirectory

USER = "3cce9d87-3986-4f19-8335-7ed075408ca2"
OTHER_USER = "56f2d212-e49c-42e3-8298-0188e5bef094"
GROUP = "2b5ed229-4072-478d-9504-a047ebd4b07d"
GROUP_2 = "68e55cce-cf7e-4a2d-9046-3e4e75c4bfa7"
DYNAMIC = "dddddddd-0000-0000-0000-000000000001"


@pytest.fixture
def directory() -> InMemoryDirectory:
    d = InMemoryDirectory(datetime(2023, 2, 7, 6, 57, 54, tzinfo=UTC))
    d.add_user(USER, "Alex Wilber")
    d.add_user(OTHER_USER, "Megan Bowen")
    d.add_group(GROUP, "FinReport-SeniorAnalyst-SecureAccess")
    d.add_group(GROUP_2, "Payroll-SecureAccess")
    d.add_group(DYNAMIC, "All Finance", dynamic=True)
    return d


@pytest.fixture
def pim(directory: InMemoryDirectory) -> PimBackend:
    return build(directory)


def eligibility(action: str = "AdminAssign", **extra: Any) -> dict[str, Any]:
    body = {
        "accessId": "member",
        "principalId": USER,
        "groupId": GROUP,
        "action": action,
        "scheduleInfo": {
            "startDateTime": "2023-02-06T19:25:00.000Z",
            "expiration": {"type": "AfterDateTime", "endDateTime": "2023-02-07T19:56:00.000Z"},
        },
        "justification": "Assign eligible request.",
    }
    body.update(extra)
    return body


def active(action: str = "adminAssign", duration: str = "PT2H", **extra: Any) -> dict[str, Any]:
    body = {
        "accessId": "member",
        "principalId": USER,
        "groupId": GROUP,
        "action": action,
        "scheduleInfo": {
            "startDateTime": "2022-12-08T07:43:00.000Z",
            "expiration": {"type": "afterDuration", "duration": duration},
        },
        "justification": "Assign active member access.",
    }
    body.update(extra)
    return body


def error_of(call: Any) -> GraphError:
    with pytest.raises(GraphError) as caught:
        call()
    return caught.value


# -- documented examples ----------------------------------------------------------------------


def test_create_eligibility_example_1(pim: PimBackend, directory: InMemoryDirectory) -> None:
    """privilegedaccessgroup-post-eligibilityschedulerequests.md, example 1."""
    got = pim.create_request("eligibility", eligibility(), Caller())
    assert got["status"] == "Provisioned"
    assert got["action"] == "adminAssign"
    assert got["isValidationOnly"] is False
    assert got["justification"] == "Assign eligible request."
    assert (got["principalId"], got["accessId"], got["groupId"]) == (USER, "member", GROUP)
    assert got["targetScheduleId"] == f"{GROUP}_member_{got['id']}"
    assert got["createdBy"] == {"user": {"id": USER}}
    # the requested start lies in the past, so the server moves it to its own time, stamped as PIM
    # stamps its own times (seven digits); the given end is echoed as given
    assert got["scheduleInfo"] == {
        "startDateTime": "2023-02-07T06:57:54.0000000Z",
        "recurrence": None,
        "expiration": {"type": "afterDateTime", "endDateTime": "2023-02-07T19:56:00Z", "duration": None},
    }
    assert got["createdDateTime"] == got["completedDateTime"] == "2023-02-07T06:57:54.0000000Z"
    assert directory.members.get(GROUP, set()) == set()  # eligible is not a member


def test_pim_stamps_its_own_times_with_seven_digits() -> None:
    """privilegedaccessgroup-post-eligibilityschedulerequests.md, example 1: `createdDateTime`
    "2023-02-07T06:57:54.1633903Z", a server-chosen `startDateTime` likewise, `endDateTime` as given."""
    clock = InMemoryDirectory(datetime(2023, 2, 7, 6, 57, 54, 163390, tzinfo=UTC))
    clock.add_user(USER, "Alex Wilber")
    clock.add_group(GROUP, "FinReport-SeniorAnalyst-SecureAccess")
    pim = build(clock)
    got = pim.create_request("eligibility", eligibility(), Caller())
    assert got["createdDateTime"] == got["completedDateTime"] == "2023-02-07T06:57:54.1633900Z"
    assert got["scheduleInfo"]["startDateTime"] == "2023-02-07T06:57:54.1633900Z"
    assert got["scheduleInfo"]["expiration"]["endDateTime"] == "2023-02-07T19:56:00Z"
    [schedule] = pim.list_schedules("eligibility", f"groupId eq '{GROUP}'")
    [instance] = pim.list_instances("eligibility", f"groupId eq '{GROUP}'")
    assert schedule["createdDateTime"] == instance["startDateTime"] == "2023-02-07T06:57:54.1633900Z"
    assert instance["endDateTime"] == "2023-02-07T19:56:00Z"


def test_extend_eligibility_example_2(pim: PimBackend, directory: InMemoryDirectory) -> None:
    """privilegedaccessgroup-post-eligibilityschedulerequests.md, example 2 (AdminExtend)."""
    pim.create_request("eligibility", eligibility(), Caller())
    body = eligibility("AdminExtend", justification="Extend eligible request.")
    body["scheduleInfo"]["expiration"]["endDateTime"] = "2023-02-07T20:56:00.000Z"
    got = pim.create_request("eligibility", body, Caller())
    assert got["action"] == "adminExtend"
    assert got["status"] == "Provisioned"
    schedules = pim.list_schedules("eligibility", f"groupId eq '{GROUP}' and principalId eq '{USER}'")
    assert [s["scheduleInfo"]["expiration"]["endDateTime"] for s in schedules] == ["2023-02-07T20:56:00Z"]
    assert schedules[0]["id"] == got["targetScheduleId"]


def test_create_assignment_example_1(pim: PimBackend, directory: InMemoryDirectory) -> None:
    """privilegedaccessgroup-post-assignmentschedulerequests.md, example 1: 2 h active membership."""
    got = pim.create_request("assignment", active(groupId=GROUP_2), Caller())
    assert got["status"] == "Provisioned"
    assert got["approvalId"] is None and got["customData"] is None
    assert got["ticketInfo"] == {"ticketNumber": None, "ticketSystem": None}
    assert got["scheduleInfo"]["expiration"] == {
        "type": "afterDuration",
        "endDateTime": None,
        "duration": "PT2H",
    }
    assert directory.members[GROUP_2] == {USER}
    instances = pim.list_instances("assignment", f"groupId eq '{GROUP_2}'")
    assert [(i["principalId"], i["assignmentType"], i["memberType"]) for i in instances] == [
        (USER, "Assigned", "Direct")
    ]
    assert instances[0]["endDateTime"] == "2023-02-07T08:57:54Z"


def test_self_activate_example_2(pim: PimBackend, directory: InMemoryDirectory) -> None:
    """privilegedaccessgroup-post-assignmentschedulerequests.md, example 2: a user activates."""
    pim.create_request("eligibility", eligibility(), Caller())
    body = active("selfActivate", justification="Activate assignment.")
    got = pim.create_request("assignment", body, Caller(user_id=USER))
    assert (got["action"], got["status"]) == ("selfActivate", "Provisioned")
    assert got["createdBy"] == {"user": {"id": USER}}
    assert directory.members[GROUP] == {USER}
    assert pim.is_active_member(GROUP, USER, directory.now())
    [instance] = pim.list_instances("assignment", f"principalId eq '{USER}'")
    assert instance["assignmentType"] == "Activated"


def test_list_eligibility_schedules_example(pim: PimBackend) -> None:
    """privilegedaccessgroup-list-eligibilityschedules.md, example 1 (seeded schedule, ids kept)."""
    seeded = {
        "id": f"{GROUP}_member_4cc1a00f-3e44-48ae-9bb5-fba55c9a7a5c",
        "scheduleInfo": {
            "startDateTime": "2022-04-12T14:44:50.287Z",
            "recurrence": None,
            "expiration": {"type": "afterDateTime", "endDateTime": "2024-04-10T00:00:00Z", "duration": None},
        },
        "createdUsing": "77f71919-62f3-4d0c-9f88-0a0391b665cd",
        "createdDateTime": "2022-04-12T14:44:50.287Z",
        "modifiedDateTime": "0001-01-01T08:00:00Z",
        "status": "Provisioned",
        "memberType": "Direct",
        "accessId": "member",
        "principalId": USER,
        "groupId": GROUP,
    }
    pim.seed({"eligibilitySchedules": [seeded]})
    got = pim.list_schedules("eligibility", f"groupId eq '{GROUP}' and principalId eq '{USER}'")
    assert got == [seeded]
    [instance] = pim.list_instances("eligibility", f"groupId eq '{GROUP}'")
    assert instance == {
        "id": seeded["id"],
        "principalId": USER,
        "startDateTime": "2022-04-12T14:44:50.287Z",
        "endDateTime": "2024-04-10T00:00:00Z",
        "accessId": "member",
        "groupId": GROUP,
        "memberType": "Direct",
        "eligibilityScheduleId": seeded["id"],
    }


def test_list_requests_and_get_by_id(pim: PimBackend) -> None:
    """privilegedaccessgroup-list-assignmentschedulerequests.md / -eligibilityschedulerequests.md."""
    made = pim.create_request("assignment", active(), Caller())
    listed = pim.list_requests("assignment", f"groupId eq '{GROUP}' and principalId eq '{USER}'")
    assert listed == [made]
    assert pim.get_request("assignment", made["id"]) == made
    assert pim.get_schedule("assignment", made["targetScheduleId"])["createdUsing"] == made["id"]
    assert pim.list_requests("eligibility", f"groupId eq '{GROUP}'") == []


# -- behaviour --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["eligibility", "assignment"])
def test_duplicate_grant_is_role_assignment_exists(pim: PimBackend, kind: str) -> None:
    body = eligibility() if kind == "eligibility" else active()
    pim.create_request(kind, body, Caller())
    err = error_of(lambda: pim.create_request(kind, body, Caller()))
    assert (err.status, err.code, err.message) == (
        400,
        "RoleAssignmentExists",
        "The Role assignment already exists.",
    )


@pytest.mark.parametrize(
    "kind",
    [
        "eligibilitySchedules",
        "eligibilityScheduleInstances",
        "assignmentSchedules",
        "assignmentScheduleInstances",
        "eligibilityScheduleRequests",
        "assignmentScheduleRequests",
    ],
)
@pytest.mark.parametrize("text", [None, "", "accessId eq 'member'"])
def test_lists_require_group_or_principal_scope(pim: PimBackend, kind: str, text: str | None) -> None:
    kind_name = "eligibility" if kind.startswith("eligibility") else "assignment"
    getter = {
        "Schedules": pim.list_schedules,
        "ScheduleInstances": pim.list_instances,
        "ScheduleRequests": pim.list_requests,
    }[kind.removeprefix(kind_name)]
    err = error_of(lambda: getter(kind_name, text))
    assert err.status == 400


def test_accessid_narrows_a_scoped_list(pim: PimBackend) -> None:
    pim.create_request("eligibility", eligibility(), Caller())
    pim.create_request("eligibility", eligibility(accessId="owner"), Caller())
    owners = pim.list_schedules("eligibility", f"groupId eq '{GROUP}' and accessId eq 'owner'")
    assert [s["accessId"] for s in owners] == ["owner"]


def test_dynamic_group_cannot_be_pim_managed(pim: PimBackend) -> None:
    err = error_of(lambda: pim.create_request("eligibility", eligibility(groupId=DYNAMIC), Caller()))
    assert err.status == 400
    assert "Dynamic" in err.message


def test_unknown_group_or_principal_is_404(pim: PimBackend) -> None:
    assert (
        error_of(lambda: pim.create_request("eligibility", eligibility(groupId="nope"), Caller())).status
        == 404
    )
    assert (
        error_of(lambda: pim.create_request("eligibility", eligibility(principalId="nope"), Caller())).status
        == 404
    )


@pytest.mark.parametrize(
    "patch",
    [
        {"action": "AdminGrant"},  # unknown enum member
        {"accessId": "guest"},
        {"accessId": 7},  # wrong type
        {"principalId": ["x"]},
        {"isValidationOnly": "yes"},
        {"justification": 12},
        {"ticketInfo": "INC1"},
        {"colour": "blue"},  # unknown property
        {"scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "0:30:00"}}},  # str(timedelta)
        {"scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "1 day, 0:00:00"}}},
        {"scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "P1Y"}}},  # not Edm.Duration
        {"scheduleInfo": {"expiration": {"type": "afterDuration"}}},
        {"scheduleInfo": {"expiration": {"type": "afterDateTime", "endDateTime": "tomorrow"}}},
        {"scheduleInfo": {"expiration": {"type": "sometimes"}}},
        {"scheduleInfo": {"startDateTime": 5}},
        {"scheduleInfo": {"recurrence": {"pattern": {}}}},
        {"scheduleInfo": []},
    ],
)
def test_bad_input_is_400(pim: PimBackend, patch: dict[str, Any]) -> None:
    err = error_of(lambda: pim.create_request("assignment", active(**patch), Caller()))
    assert err.status == 400


@pytest.mark.parametrize("body", [None, [], "text", 3])
def test_non_object_body_is_400(pim: PimBackend, body: Any) -> None:
    assert error_of(lambda: pim.create_request("eligibility", body, Caller())).status == 400


def test_enum_input_any_case_output_camel_case(pim: PimBackend) -> None:
    body = active("ADMINASSIGN", accessId="MEMBER")
    body["scheduleInfo"]["expiration"]["type"] = "AFTERDURATION"
    got = pim.create_request("assignment", body, Caller())
    assert (got["action"], got["accessId"], got["scheduleInfo"]["expiration"]["type"]) == (
        "adminAssign",
        "member",
        "afterDuration",
    )


def test_assignment_shorter_than_five_minutes_is_refused(pim: PimBackend) -> None:
    err = error_of(lambda: pim.create_request("assignment", active(duration="PT4M"), Caller()))
    assert err.code == "RoleAssignmentRequestPolicyValidationFailed"
    assert err.message == 'The following policy rules failed: ["ExpirationRule"]'


def test_no_removal_within_five_minutes_of_creation(pim: PimBackend, directory: InMemoryDirectory) -> None:
    pim.create_request("assignment", active(), Caller())
    remove = active("adminRemove")
    del remove["scheduleInfo"]
    assert (
        error_of(lambda: pim.create_request("assignment", remove, Caller())).code == "ActiveDurationTooShort"
    )
    directory.advance(timedelta(minutes=5))
    got = pim.create_request("assignment", remove, Caller())
    assert got["status"] == "Revoked"
    assert directory.members[GROUP] == set()
    assert pim.list_schedules("assignment", f"groupId eq '{GROUP}'") == []


def test_remove_eligibility_keeps_members_untouched(pim: PimBackend, directory: InMemoryDirectory) -> None:
    pim.create_request("eligibility", eligibility(), Caller())
    directory.advance(timedelta(minutes=6))
    got = pim.create_request(
        "eligibility",
        {"accessId": "member", "principalId": USER, "groupId": GROUP, "action": "adminRemove"},
        Caller(),
    )
    assert got["status"] == "Revoked"
    assert pim.list_schedules("eligibility", f"groupId eq '{GROUP}'") == []
    assert "Remove eligible member from role in PIM completed (timebound)" in directory.activities()


def test_remove_without_schedule_is_refused(pim: PimBackend) -> None:
    remove = {"accessId": "member", "principalId": USER, "groupId": GROUP, "action": "adminRemove"}
    assert (
        error_of(lambda: pim.create_request("eligibility", remove, Caller())).code
        == "RoleAssignmentDoesNotExist"
    )


def test_permanent_eligibility_refused_when_policy_requires_expiry(pim: PimBackend) -> None:
    body = eligibility()
    body["scheduleInfo"]["expiration"] = {"type": "noExpiration"}
    err = error_of(lambda: pim.create_request("eligibility", body, Caller()))
    assert err.message == 'The following policy rules failed: ["ExpirationRule"]'


def test_eligibility_longer_than_policy_maximum_is_refused(pim: PimBackend) -> None:
    body = eligibility()
    body["scheduleInfo"]["expiration"] = {"type": "afterDuration", "duration": "P366D"}
    assert error_of(lambda: pim.create_request("eligibility", body, Caller())).code == (
        "RoleAssignmentRequestPolicyValidationFailed"
    )


def test_admin_assignment_needs_justification_by_default(pim: PimBackend) -> None:
    body = active()
    del body["justification"]
    err = error_of(lambda: pim.create_request("assignment", body, Caller()))
    assert err.message == 'The following policy rules failed: ["JustificationRule"]'


def test_validation_only_changes_nothing(pim: PimBackend, directory: InMemoryDirectory) -> None:
    before = pim.list_policy_assignments(f"scopeId eq '{GROUP}' and scopeType eq 'Group'")
    got = pim.create_request("assignment", active(isValidationOnly=True), Caller())
    assert got["isValidationOnly"] is True
    assert directory.members.get(GROUP, set()) == set()
    assert pim.list_requests("assignment", f"groupId eq '{GROUP}'") == []
    assert pim.list_policy_assignments(f"scopeId eq '{GROUP}' and scopeType eq 'Group'") == before
    assert directory.audit == []


def test_future_start_grants_membership_when_the_clock_gets_there(
    pim: PimBackend, directory: InMemoryDirectory
) -> None:
    body = active()
    body["scheduleInfo"]["startDateTime"] = "2023-02-07T08:00:00Z"
    pim.create_request("assignment", body, Caller())
    assert directory.members.get(GROUP, set()) == set()
    assert pim.list_instances("assignment", f"groupId eq '{GROUP}'") == []
    pim.tick(directory.advance(timedelta(hours=1, minutes=10)))
    assert directory.members[GROUP] == {USER}
    pim.tick(directory.advance(timedelta(hours=2)))
    assert directory.members[GROUP] == set()


def test_seed_dump_round_trip(pim: PimBackend, directory: InMemoryDirectory) -> None:
    pim.create_request("eligibility", eligibility(), Caller())
    pim.create_request("assignment", active(), Caller())
    state = pim.dump()
    other = build(directory)
    other.seed(state)
    assert other.dump() == state
    pim.reset()
    assert pim.list_schedules("assignment", f"groupId eq '{GROUP}'") == []
