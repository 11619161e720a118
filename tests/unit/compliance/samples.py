"""Graph JSON from the documented examples (microsoft-graph-docs-contrib, api-reference/v1.0) and an
event factory for the compliance tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from shared.compliance.events import AppRef, Cause, ComplianceEvent, EventKind, Source
from shared.compliance.mapping import MappingContext

GROUP = "2b5ed229-4072-478d-9504-a047ebd4b07d"
USER = "3cce9d87-3986-4f19-8335-7ed075408ca2"
APP = AppRef("11111111-2222-3333-4444-555555555555", "Finance ERP")
CTX = MappingContext(APP, upns={USER: "alice@contoso.com"})

# privilegedaccessgroup-list-assignmentschedulerequests.md, response
DOC_ASSIGNMENT_REQUEST: dict[str, Any] = {
    "id": "6aacaee8-4089-4048-9510-3119367fc943",
    "status": "Provisioned",
    "createdDateTime": "2023-02-07T07:05:53.7895614Z",
    "completedDateTime": "2023-02-07T07:05:55.3404527Z",
    "approvalId": "6aacaee8-4089-4048-9510-3119367fc943",
    "customData": None,
    "createdBy": {"user": {"id": USER}},
    "action": "adminAssign",
    "isValidationOnly": False,
    "justification": "Retrieve requests",
    "scheduleInfo": {
        "startDateTime": "2023-02-07T06:57:55.6183972Z",
        "recurrence": None,
        "expiration": {"type": "afterDateTime", "endDateTime": "2023-02-07T19:56:00Z", "duration": None},
    },
    "ticketInfo": {"ticketNumber": None, "ticketSystem": None},
    "principalId": USER,
    "accessId": "member",
    "groupId": GROUP,
    "targetScheduleId": f"{GROUP}_member_6aacaee8-4089-4048-9510-3119367fc943",
}

# privilegedaccessgroup-post-assignmentschedulerequests.md, example 2 response (selfActivate)
DOC_SELF_ACTIVATE: dict[str, Any] = {
    "id": "6aacaee8-4089-4048-9510-3119367fc943",
    "status": "Provisioned",
    "completedDateTime": "2023-02-07T07:05:55.3404527Z",
    "createdDateTime": "2023-02-07T07:05:53.7895614Z",
    "approvalId": None,
    "customData": None,
    "createdBy": {"user": {"id": USER}},
    "action": "selfActivate",
    "isValidationOnly": False,
    "justification": "Activate assignment.",
    "scheduleInfo": {
        "startDateTime": "2023-02-07T07:05:55.3404527Z",
        "expiration": {"type": "afterDuration", "duration": "PT2H"},
    },
    "ticketInfo": {"ticketNumber": None, "ticketSystem": None},
    "accessId": "member",
    "principalId": USER,
    "groupId": GROUP,
    "targetScheduleId": f"{GROUP}_member_6aacaee8-4089-4048-9510-3119367fc943",
}

# privilegedaccessgroup-list-eligibilityschedulerequests.md, example 1 response
DOC_ELIGIBILITY_REQUEST: dict[str, Any] = {
    "id": "534b3d4d-3ba0-8429-3568-5e9cce6c2cbd",
    "status": "Provisioned",
    "completedDateTime": "2022-04-12T09:05:41.853Z",
    "createdDateTime": "2022-04-12T09:05:41.807Z",
    "approvalId": None,
    "customData": None,
    "createdBy": {"user": {"displayName": None, "id": "3fbd929d-8c56-4462-851e-0eb9a7b3a2a5"}},
    "action": "adminAssign",
    "isValidationOnly": False,
    "justification": "Assign eligibility to user for PIM for groups.",
    "scheduleInfo": {
        "startDateTime": "2022-04-12T09:05:41.8532931Z",
        "recurrence": None,
        "expiration": {"type": "afterDateTime", "endDateTime": "2024-04-10T00:00:00Z", "duration": None},
    },
    "ticketInfo": {"ticketNumber": None, "ticketSystem": None},
    "accessId": "member",
    "principalId": USER,
    "groupId": GROUP,
    "targetScheduleId": "534b3d4d-3ba0-8429-3568-5e9cce6c2cbd",
}

# same page, example 2 ($select=principalId,action,groupId): no id, no status, no times
DOC_ELIGIBILITY_SELECTED: dict[str, Any] = {"action": "adminAssign", "principalId": USER, "groupId": GROUP}

# directoryaudit-get.md response item (note `targetResource` and `Type` as the example spells them),
# with the PIM fields of graph.md 6.1 substituted: an approval by Audry Oliver.
DOC_AUDIT: dict[str, Any] = {
    "id": "id",
    "category": "GroupManagement",
    "correlationId": "da159bfb-54fa-4092-8a38-6e1fa7870e30",
    "result": "success",
    "resultReason": "",
    "activityDisplayName": "Add member to role request approved (PIM activation)",
    "activityDateTime": "2018-01-09T21:20:02.7215374Z",
    "loggedByService": "PIM",
    "initiatedBy": {
        "user": {"id": "728309ae-1a37-4937-9afe-e35d964db09b", "displayName": "Audry Oliver",
                 "userPrincipalName": "bob@wingtiptoysonline.com", "ipAddress": "127.0.0.1"},
        "app": None,
    },
    "targetResource": [
        {"id": GROUP, "displayName": "Example.com", "Type": "Group", "modifiedProperties": [],
         "groupType": "unifiedGroups"},
        {"id": USER, "displayName": None, "Type": "User", "modifiedProperties": [],
         "userPrincipalName": "example@contoso.com"},
    ],
    "additionalDetails": [{"key": "Additional Detail Name", "value": "Additional Detail Value"}],
}


def request(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of a documented request with top-level fields changed."""
    copied = copy.deepcopy(base)
    copied.update(changes)
    return copied


def audit(activity: str, **changes: Any) -> dict[str, Any]:
    """The documented audit entry with another activity (and fields) substituted."""
    return request(DOC_AUDIT, activityDisplayName=activity, **changes)


def at(text: str) -> datetime:
    """A UTC datetime from `YYYY-MM-DDTHH:MM`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_event(n: int = 0, **changes: Any) -> ComplianceEvent:
    """A plausible activation event; `n` varies ids and time."""
    fields: dict[str, Any] = {
        "time": at("2026-01-05T10:00"), "event": EventKind.ACTIVATED, "app_id": APP.app_id,
        "app_name": APP.app_name, "group_id": GROUP, "user_id": f"user-{n}",
        "user_upn": f"user{n}@contoso.com", "source": Source.ASSIGNMENT_REQUEST,
        "source_id": f"request-{n}", "cause": Cause.PIM, "trigger": "self_service",
        "start": at("2026-01-05T10:00"), "end": at("2026-01-05T12:00"), "duration": "PT2H",
        "justification": f"incident {n}, db restore", "ticket_system": "ServiceNow",
        "ticket_number": f"INC{n:07d}",
    }
    fields.update(changes)
    return ComplianceEvent(**fields)
