"""Graph JSON -> compliance events, from the documented examples."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.compliance.events import Cause, EventKind, Source
from shared.compliance.mapping import (
    map_assignment_request,
    map_directory_audit,
    map_eligibility_request,
    request_changed_at,
)
from shared.compliance.warden_audit import map_warden_audit
from tests.unit.compliance.samples import (
    APP,
    CTX,
    DOC_ASSIGNMENT_REQUEST,
    DOC_AUDIT,
    DOC_ELIGIBILITY_REQUEST,
    DOC_ELIGIBILITY_SELECTED,
    DOC_SELF_ACTIVATE,
    GROUP,
    USER,
    at,
    audit,
    request,
)


def test_documented_self_activation_becomes_activated_with_schedule_and_justification() -> None:
    event = map_assignment_request(DOC_SELF_ACTIVATE, CTX)
    assert event is not None
    assert event.event is EventKind.ACTIVATED
    assert (event.app_id, event.app_name, event.group_id) == (APP.app_id, APP.app_name, GROUP)
    assert (event.user_id, event.user_upn) == (USER, "alice@contoso.com")
    assert event.time == datetime(2023, 2, 7, 7, 5, 55, 340452, tzinfo=UTC)
    assert event.start == datetime(2023, 2, 7, 7, 5, 55, 340452, tzinfo=UTC)
    assert event.end == datetime(2023, 2, 7, 9, 5, 55, 340452, tzinfo=UTC)
    assert event.duration == "PT2H"
    assert event.justification == "Activate assignment."
    assert (event.ticket_system, event.ticket_number) == (None, None)
    assert (event.cause, event.trigger) == (Cause.PIM, "self_service")
    assert (event.source, event.source_id) == (Source.ASSIGNMENT_REQUEST, DOC_SELF_ACTIVATE["id"])


def test_documented_admin_assign_with_end_date_gets_its_duration() -> None:
    event = map_assignment_request(DOC_ASSIGNMENT_REQUEST, CTX)
    assert event is not None
    assert event.event is EventKind.ASSIGNMENT_GRANTED
    assert event.end == datetime(2023, 2, 7, 19, 56, tzinfo=UTC)
    assert event.duration == "PT12H58M4S"  # 06:57:55.618 -> 19:56:00, whole seconds
    assert event.trigger == f"admin:{USER}"


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    [
        ("selfActivate", "Provisioned", EventKind.ACTIVATED),
        ("SelfActivate", "Granted", EventKind.ACTIVATED),
        ("selfActivate", "Revoked", EventKind.ACTIVATED),
        ("selfActivate", "PendingApproval", EventKind.APPROVAL_REQUESTED),
        ("selfActivate", "Denied", EventKind.ACTIVATION_DENIED),
        ("selfActivate", "Canceled", EventKind.ACTIVATION_CANCELED),
        ("selfActivate", "Failed", EventKind.ACTIVATION_FAILED),
        ("selfActivate", "PendingProvisioning", None),
        ("selfDeactivate", "Revoked", EventKind.DEACTIVATED),
        ("selfDeactivate", "Provisioned", EventKind.DEACTIVATED),
        ("selfDeactivate", "Denied", None),
        ("adminAssign", "Provisioned", EventKind.ASSIGNMENT_GRANTED),
        ("adminAssign", "Failed", None),
        ("adminRemove", "Revoked", EventKind.ASSIGNMENT_REMOVED),
        ("adminExtend", "Provisioned", EventKind.ASSIGNMENT_EXTENDED),
        ("unknownFutureValue", "Provisioned", None),
    ],
)
def test_assignment_request_table(action: str, status: str, kind: EventKind | None) -> None:
    event = map_assignment_request(request(DOC_SELF_ACTIVATE, action=action, status=status), CTX)
    assert (event.event if event else None) == kind


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    [
        ("adminAssign", "Provisioned", EventKind.ELIGIBILITY_GRANTED),
        ("AdminAssign", "Granted", EventKind.ELIGIBILITY_GRANTED),
        ("adminUpdate", "Provisioned", EventKind.ELIGIBILITY_EXTENDED),
        ("adminExtend", "Provisioned", EventKind.ELIGIBILITY_EXTENDED),
        ("adminRenew", "Provisioned", EventKind.ELIGIBILITY_EXTENDED),
        ("adminRemove", "Revoked", EventKind.ELIGIBILITY_REMOVED),
        ("adminAssign", "Denied", None),
        ("adminAssign", "PendingApproval", None),
        ("selfActivate", "Provisioned", None),
    ],
)
def test_eligibility_request_table(action: str, status: str, kind: EventKind | None) -> None:
    event = map_eligibility_request(request(DOC_ELIGIBILITY_REQUEST, action=action, status=status), CTX)
    assert (event.event if event else None) == kind


def test_documented_eligibility_grant_keeps_end_and_creator() -> None:
    event = map_eligibility_request(DOC_ELIGIBILITY_REQUEST, CTX)
    assert event is not None
    assert event.end == datetime(2024, 4, 10, tzinfo=UTC)
    assert event.time == datetime(2022, 4, 12, 9, 5, 41, 853000, tzinfo=UTC)
    assert event.trigger == "admin:3fbd929d-8c56-4462-851e-0eb9a7b3a2a5"


def test_selected_fields_without_id_or_status_map_to_nothing() -> None:
    assert map_eligibility_request(DOC_ELIGIBILITY_SELECTED, CTX) is None


def test_removal_request_has_no_completion_time_and_uses_creation_time() -> None:
    removal = request(DOC_ELIGIBILITY_REQUEST, action="adminRemove", status="Revoked", completedDateTime=None)
    event = map_eligibility_request(removal, CTX)
    assert event is not None
    assert event.time == datetime(2022, 4, 12, 9, 5, 41, 807000, tzinfo=UTC)
    assert (event.start, event.end, event.duration) == (None, None, None)


def test_owner_role_requests_are_not_member_events() -> None:
    assert map_assignment_request(request(DOC_SELF_ACTIVATE, accessId="owner"), CTX) is None


def test_pending_approval_is_recorded_at_creation_and_then_activation_as_a_second_event() -> None:
    pending = map_assignment_request(request(DOC_SELF_ACTIVATE, status="PendingApproval"), CTX)
    done = map_assignment_request(DOC_SELF_ACTIVATE, CTX)
    assert pending is not None and done is not None
    assert pending.time == datetime(2023, 2, 7, 7, 5, 53, 789561, tzinfo=UTC)
    assert pending.event_id != done.event_id


def test_request_made_by_pim_warden_names_its_ticket() -> None:
    ctx = replace(CTX, warden_principal_ids=frozenset({"warden-sp"}))
    grant = request(DOC_ELIGIBILITY_REQUEST, createdBy={"application": {"id": "warden-sp"}},
                    ticketInfo={"ticketNumber": "CHG0042", "ticketSystem": "ServiceNow"})
    event = map_eligibility_request(grant, ctx)
    assert event is not None
    assert (event.cause, event.trigger) == (Cause.PIM_WARDEN, "ticket:CHG0042")
    assert (event.ticket_system, event.ticket_number) == ("ServiceNow", "CHG0042")


def test_request_changed_at_prefers_completion() -> None:
    assert request_changed_at(DOC_SELF_ACTIVATE) == datetime(2023, 2, 7, 7, 5, 55, 340452, tzinfo=UTC)
    assert request_changed_at({"createdDateTime": "2023-02-07T07:05:53Z"}) == at("2023-02-07T07:05:53")
    assert request_changed_at({}) is None


def test_documented_audit_shape_gives_approval_with_approver() -> None:
    event = map_directory_audit(DOC_AUDIT, CTX)
    assert event is not None
    assert event.event is EventKind.APPROVAL_GRANTED
    assert event.approver == "bob@wingtiptoysonline.com"
    assert (event.user_id, event.user_upn, event.group_id) == (USER, "example@contoso.com", GROUP)
    assert event.time == datetime(2018, 1, 9, 21, 20, 2, 721537, tzinfo=UTC)
    assert (event.source, event.source_id) == (Source.DIRECTORY_AUDIT, "id")


@pytest.mark.parametrize(
    ("activity", "kind"),
    [
        ("Add member to role request approved (PIM activation)", EventKind.APPROVAL_GRANTED),
        ("Add member to role request denied (PIM activation)", EventKind.APPROVAL_DENIED),
        ("PIM activation request expired", EventKind.APPROVAL_EXPIRED),
        ("Remove member from role (PIM activation expired)", EventKind.ACTIVATION_EXPIRED),
        ("Add member to role requested (PIM activation)", None),
        ("Add member to role completed (PIM activation)", None),
        ("Remove member from role completed (PIM deactivate)", None),
        ("Update role setting in PIM", None),
    ],
)
def test_audit_activity_table(activity: str, kind: EventKind | None) -> None:
    event = map_directory_audit(audit(activity), CTX)
    assert (event.event if event else None) == kind


def test_activation_expired_from_audit_ends_at_its_time_and_names_no_approver() -> None:
    entry = audit("Remove member from role (PIM activation expired)",
                  initiatedBy={"user": None, "app": {"displayName": "MS-PIM"}})
    event = map_directory_audit(entry, CTX)
    assert event is not None
    assert event.end == event.time and event.approver is None and event.trigger == "schedule_end"


@pytest.mark.parametrize("change", [{"loggedByService": "Core Directory"}, {"result": "failure"},
                                    {"targetResource": []}, {"activityDateTime": "yesterday"}])
def test_audits_not_from_pim_failed_or_unattributable_map_to_nothing(change: dict[str, object]) -> None:
    assert map_directory_audit(request(DOC_AUDIT, **change), CTX) is None


def test_audit_with_lowercase_target_resources_maps_too() -> None:
    entry = request(DOC_AUDIT, targetResources=[{"id": GROUP, "type": "Group"},
                                                {"id": USER, "type": "User"}])
    del entry["targetResource"]
    event = map_directory_audit(entry, CTX)
    assert event is not None and event.user_upn == "alice@contoso.com"


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        ("PolicyRuleCorrected", EventKind.POLICY_DRIFT_REPAIRED),
        ("RemoveDirectAssignment", EventKind.DIRECT_ASSIGNMENT_REMOVED),
        ("bypass_member_removed", EventKind.BYPASS_MEMBER_REMOVED),
        ("EligibilityGranted", None),
    ],
)
def test_warden_audit_table(action: str, kind: EventKind | None) -> None:
    row = {"when": at("2026-01-05T10:00"), "cause": "timer", "app_id": APP.app_id, "target": USER,
           "action": action, "before": None, "after": None, "outcome": "succeeded", "event_id": "row-1"}
    event = map_warden_audit(row, CTX)
    assert (event.event if event else None) == kind


def test_warden_policy_repair_records_rule_change_and_trigger() -> None:
    row = {"when": "2026-01-05T10:00:00Z", "cause": "ticket:JIRA-12", "app_id": APP.app_id,
           "target": "Expiration_EndUser_Assignment", "action": "PolicyRuleCorrected",
           "before": {"maximumDuration": "PT8H"}, "after": {"maximumDuration": "PT1H"},
           "outcome": "succeeded", "event_id": "row-7"}
    event = map_warden_audit(row, CTX)
    assert event is not None
    assert (event.cause, event.trigger, event.user_id) == (Cause.PIM_WARDEN, "ticket:JIRA-12", None)
    assert event.detail == ('rule Expiration_EndUser_Assignment: {"maximumDuration":"PT8H"} -> '
                            '{"maximumDuration":"PT1H"}')
    assert (event.source, event.source_id) == (Source.WARDEN_AUDIT, "row-7")


def test_failed_warden_action_is_not_an_event() -> None:
    row = {"when": at("2026-01-05T10:00"), "action": "RemoveDirectAssignment", "outcome": "failed"}
    assert map_warden_audit(row, CTX) is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30)
    | st.sampled_from(["Provisioned", "selfActivate", "member", "PIM", "success", "PT2H",
                       "2023-02-07T07:05:55Z", "Group", "User", GROUP]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "status", "action", "accessId", "groupId", "principalId", "scheduleInfo",
                         "expiration", "duration", "endDateTime", "startDateTime", "createdDateTime",
                         "activityDisplayName", "activityDateTime", "loggedByService", "result",
                         "targetResources", "type", "initiatedBy", "user", "when", "outcome", "target",
                         "ticketInfo", "ticketNumber", "createdBy"]) | st.text(max_size=8),
        children, max_size=8),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(data=_json)
def test_mappers_never_raise_on_arbitrary_json(data: object) -> None:
    for mapper in (map_assignment_request, map_eligibility_request, map_directory_audit, map_warden_audit):
        event = mapper(data, CTX)
        assert event is None or event.time.tzinfo is not None
