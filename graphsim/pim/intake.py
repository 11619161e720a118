"""Parsing and validating the body of a PIM-for-Groups schedule request, with no business rules.

Shapes from privilegedaccessgroup-post-eligibilityschedulerequests.md and
privilegedaccessgroup-post-assignmentschedulerequests.md: accessId, action, groupId, principalId,
scheduleInfo {startDateTime, expiration {type, endDateTime | duration}}, justification, ticketInfo,
isValidationOnly, customData (assignment requests). A start in the past is moved to server time,
as the documented responses show. Every malformed value is a 400, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from graphsim.pim.values import (
    ACCESS_IDS,
    ACTIONS,
    EXPIRATION_TYPES,
    bad_request,
    enum_value,
    optional_bool,
    optional_str,
    parse_datetime,
    parse_duration,
    reject_unknown,
    required_str,
)

_READ_ONLY = {
    "id",
    "status",
    "createdDateTime",
    "completedDateTime",
    "approvalId",
    "createdBy",
    "targetScheduleId",
}
_WRITABLE = {
    "accessId",
    "action",
    "groupId",
    "principalId",
    "scheduleInfo",
    "justification",
    "ticketInfo",
    "isValidationOnly",
    "customData",
}
_TYPE_NAMES = {
    "eligibility": "microsoft.graph.privilegedAccessGroupEligibilityScheduleRequest",
    "assignment": "microsoft.graph.privilegedAccessGroupAssignmentScheduleRequest",
}


@dataclass(frozen=True)
class ParsedRequest:
    """A validated schedule request; times are UTC, `end` None means no end was asked for."""

    kind: str  # "eligibility" | "assignment"
    action: str
    access_id: str
    group_id: str
    principal_id: str
    justification: str | None
    ticket_number: str | None
    ticket_system: str | None
    custom_data: str | None
    is_validation_only: bool
    start: datetime
    expiration_type: str
    end: datetime | None
    duration: timedelta | None
    duration_text: str | None
    has_schedule: bool

    @property
    def length(self) -> timedelta | None:
        """How long the requested schedule lasts, None when open-ended."""
        return None if self.end is None else self.end - self.start


def parse_request(kind: str, body: Any, now: datetime) -> ParsedRequest:
    """Validate a POST body for eligibilityScheduleRequests / assignmentScheduleRequests."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    reject_unknown(body, _WRITABLE | _READ_ONLY, _TYPE_NAMES[kind])
    action = enum_value(body.get("action"), ACTIONS, "action") if body.get("action") is not None else None
    if action is None:
        raise bad_request("The property 'action' is required.")
    ticket = _ticket(body.get("ticketInfo"))
    schedule = body.get("scheduleInfo")
    if schedule is None and action in ("adminAssign", "adminUpdate", "adminExtend", "adminRenew"):
        raise bad_request("The property 'scheduleInfo' is required.")
    start, exp_type, end, duration, text = _schedule(schedule or {}, now)
    return ParsedRequest(
        kind=kind,
        action=action,
        access_id=enum_value(body.get("accessId"), ACCESS_IDS, "accessId"),
        group_id=required_str(body, "groupId"),
        principal_id=required_str(body, "principalId"),
        justification=optional_str(body, "justification"),
        ticket_number=ticket[0],
        ticket_system=ticket[1],
        custom_data=optional_str(body, "customData"),
        is_validation_only=optional_bool(body, "isValidationOnly"),
        start=start,
        expiration_type=exp_type,
        end=end,
        duration=duration,
        duration_text=text,
        has_schedule=schedule is not None,
    )


def _ticket(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise bad_request("Invalid value for 'ticketInfo': expected an object.")
    reject_unknown(value, {"ticketNumber", "ticketSystem"}, "microsoft.graph.ticketInfo")
    return optional_str(value, "ticketNumber"), optional_str(value, "ticketSystem")


def _schedule(
    value: Any, now: datetime
) -> tuple[datetime, str, datetime | None, timedelta | None, str | None]:
    if not isinstance(value, dict):
        raise bad_request("Invalid value for 'scheduleInfo': expected a requestSchedule object.")
    reject_unknown(value, {"startDateTime", "expiration", "recurrence"}, "microsoft.graph.requestSchedule")
    if value.get("recurrence") is not None:
        raise bad_request("Recurring schedules are not supported.")
    raw_start = value.get("startDateTime")
    start = max(parse_datetime(raw_start, "startDateTime"), now) if raw_start is not None else now
    expiration = value.get("expiration") or {}
    if not isinstance(expiration, dict):
        raise bad_request("Invalid value for 'expiration': expected an expirationPattern object.")
    reject_unknown(expiration, {"type", "endDateTime", "duration"}, "microsoft.graph.expirationPattern")
    exp_type = _expiration_type(expiration)
    if exp_type == "afterDateTime":
        if expiration.get("endDateTime") is None:
            raise bad_request("endDateTime is required when the expiration type is afterDateTime.")
        end = parse_datetime(expiration["endDateTime"], "endDateTime")
        if end <= start:
            raise bad_request("The expiration endDateTime must be later than the startDateTime.")
        return start, exp_type, end, None, None
    if exp_type == "afterDuration":
        text = expiration.get("duration")
        if text is None:
            raise bad_request("duration is required when the expiration type is afterDuration.")
        duration = parse_duration(text, "duration")
        if duration <= timedelta(0):
            raise bad_request("The expiration duration must be positive.")
        return start, exp_type, start + duration, duration, text
    return start, exp_type, None, None, None


def _expiration_type(expiration: dict[str, Any]) -> str:
    if expiration.get("type") is not None:
        return enum_value(expiration["type"], EXPIRATION_TYPES, "expiration.type")
    if expiration.get("endDateTime") is not None:
        return "afterDateTime"
    if expiration.get("duration") is not None:
        return "afterDuration"
    return "notSpecified"
