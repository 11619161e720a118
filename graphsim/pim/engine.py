"""Every business rule of a PIM-for-Groups schedule request: admin grants and removals, activation.

Errors, as documented or widely observed:
- 400 RoleAssignmentExists "The Role assignment already exists." for a duplicate grant or activation;
- 400 RoleAssignmentDoesNotExist when the schedule to update, extend, renew, remove or deactivate
  is missing;
- 400 RoleAssignmentRequestPolicyValidationFailed for policy rules (see enforcement.py), including
  ["EligibilityRule"] for an activation without an eligibility;
- 400 ActiveDurationTooShort for a removal or deactivation within 5 minutes of the schedule's creation;
- 400 PendingRoleAssignmentRequest when an activation is already waiting for approval.
isValidationOnly runs every check and changes nothing.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from graphsim.errors import GraphError
from graphsim.pim import audit
from graphsim.pim.audit import AuditEvent
from graphsim.pim.enforcement import (
    MINIMUM_LENGTH,
    Caller,
    activation_failures,
    activation_length,
    admin_failures,
    check_context,
    policy_failed,
    requires_approval,
)
from graphsim.pim.intake import ParsedRequest, parse_request
from graphsim.pim.schedules import schedule_info, window_of
from graphsim.pim.store import PimStore
from graphsim.pim.values import bad_request, format_datetime, format_duration, format_stamp, parse_datetime


def _exists() -> GraphError:
    return GraphError(400, "RoleAssignmentExists", "The Role assignment already exists.")


def _missing() -> GraphError:
    return GraphError(400, "RoleAssignmentDoesNotExist", "The Role assignment does not exist.")


class RequestEngine:
    """Turns a POSTed schedule request into state changes, membership changes and audit entries."""

    def __init__(self, store: PimStore) -> None:
        self.s = store

    def submit(self, kind: str, body: Any, caller: Caller) -> dict[str, Any]:
        """Validate and carry out one request; returns the request object Graph answers with."""
        now = self.s.port.now()
        req = parse_request(kind, body, now)
        self.s.manageable_group(req.group_id)
        self.s.principal_exists(req.principal_id)
        if req.action in ("adminRemove", "selfDeactivate"):
            return self._remove(req, caller, now)
        if req.action == "selfActivate":
            if kind == "eligibility":
                raise bad_request(
                    "selfActivate applies to assignment schedule requests.",
                    code="InvalidRoleAssignmentRequest",
                )
            return self._activate(req, caller, now)
        return self._grant(req, caller, now)

    # -- admin grants --------------------------------------------------------------------------

    def _grant(self, req: ParsedRequest, caller: Caller, now: datetime) -> dict[str, Any]:
        previous = self._previous(req)
        rules = self.s.rules(req.group_id, req.access_id)
        failed = admin_failures(rules, req, caller)
        if failed:
            raise policy_failed(failed)
        record = self._record(req, caller, now, "Provisioned")
        if req.is_validation_only:
            return record
        self._begin(req, caller)
        if previous is not None:
            self.s.schedules.end(req.kind, previous["id"])
        schedule = self._schedule(req, record, "Assigned", req.start, req.end, now)
        self._audit_pair(req, caller, record, timebound=req.end is not None)
        return self._finish(req.kind, record, schedule, now)

    def _previous(self, req: ParsedRequest) -> dict[str, Any] | None:
        find = self.s.schedules.find
        live = find(req.kind, req.group_id, req.principal_id, req.access_id)
        if req.action == "adminAssign":
            if live is not None:
                raise _exists()
            return None
        if req.action == "adminRenew":
            ended = find(req.kind, req.group_id, req.principal_id, req.access_id, ended=True)
            if live is None and ended is None:
                raise _missing()
            return live
        if live is None:
            raise _missing()
        return live

    # -- activation ----------------------------------------------------------------------------

    def _activate(self, req: ParsedRequest, caller: Caller, now: datetime) -> dict[str, Any]:
        rules = self.s.rules(req.group_id, req.access_id)
        self._check_not_active(req, now)
        eligible = self.s.schedules.find("eligibility", req.group_id, req.principal_id, req.access_id)
        length = activation_length(rules, req)
        failed = [] if eligible and window_of(eligible["scheduleInfo"]).contains(now) else ["EligibilityRule"]
        failed += activation_failures(rules, req, length, caller)
        if failed:
            raise policy_failed(failed)
        check_context(rules, caller)
        pending = requires_approval(rules)
        record = self._record(req, caller, now, "PendingApproval" if pending else "Provisioned", length)
        if req.is_validation_only:
            return record
        self._begin(req, caller)
        details = self._details(req, record)
        self.s.audit.write(
            AuditEvent(
                audit.ACTIVATION_REQUESTED,
                req.group_id,
                req.principal_id,
                caller.user_id or req.principal_id,
                details,
                record["id"],
            )
        )
        if pending:
            record["approvalId"] = record["id"]
            record["completedDateTime"] = None
            self.s.requests[req.kind][record["id"]] = record
            self.s.audit.write(
                AuditEvent(
                    audit.ACTIVATION_APPROVAL_REQUESTED,
                    req.group_id,
                    req.principal_id,
                    caller.user_id or req.principal_id,
                    details,
                    record["id"],
                )
            )
            return copy.deepcopy(record)
        end = req.start + length if length is not None else None
        schedule = self._schedule(req, record, "Activated", req.start, end, now)
        self.s.audit.write(
            AuditEvent(
                audit.ACTIVATION_COMPLETED,
                req.group_id,
                req.principal_id,
                caller.user_id or req.principal_id,
                details,
                record["id"],
            )
        )
        return self._finish(req.kind, record, schedule, now)

    def _check_not_active(self, req: ParsedRequest, now: datetime) -> None:
        live = self.s.schedules.find("assignment", req.group_id, req.principal_id, req.access_id)
        if live is not None and window_of(live["scheduleInfo"]).contains(now):
            raise _exists()
        for other in self.s.requests["assignment"].values():
            if other["status"] == "PendingApproval" and (
                other["groupId"],
                other["principalId"],
                other["accessId"],
            ) == (req.group_id, req.principal_id, req.access_id):
                raise GraphError(
                    400,
                    "PendingRoleAssignmentRequest",
                    "There is already an existing pending Role assignment request.",
                )

    # -- removal and deactivation -------------------------------------------------------------

    def _remove(self, req: ParsedRequest, caller: Caller, now: datetime) -> dict[str, Any]:
        wanted = "Activated" if req.action == "selfDeactivate" and req.kind == "assignment" else None
        schedule = self.s.schedules.find(req.kind, req.group_id, req.principal_id, req.access_id, wanted)
        if schedule is None:
            raise _missing()
        if now - parse_datetime(schedule["createdDateTime"], "createdDateTime") < MINIMUM_LENGTH:
            raise GraphError(
                400,
                "ActiveDurationTooShort",
                "The assignment cannot be removed within 5 minutes of its creation.",
            )
        record = self._record(req, caller, now, "Revoked")
        if req.is_validation_only:
            return record
        self._begin(req, caller)
        was_applied = schedule["id"] in self.s.schedules.applied
        self.s.schedules.end(req.kind, schedule["id"])
        if req.kind == "assignment" and was_applied:
            self.s.unapply(schedule, now)
        if req.action == "selfDeactivate" and req.kind == "assignment":
            for name in (audit.DEACTIVATION_REQUESTED, audit.DEACTIVATION_COMPLETED):
                self.s.audit.write(
                    AuditEvent(
                        name,
                        req.group_id,
                        req.principal_id,
                        caller.user_id or req.principal_id,
                        self._details(req, record),
                        record["id"],
                    )
                )
        else:
            timebound = window_of(schedule["scheduleInfo"]).end is not None
            self._audit_pair(req, caller, record, timebound)
        self.s.requests[req.kind][record["id"]] = record
        return copy.deepcopy(record)

    # -- shared --------------------------------------------------------------------------------

    def _begin(self, req: ParsedRequest, caller: Caller) -> None:
        """The first real request for a group onboards it."""
        self.s.onboard(req.group_id, caller.user_id)

    def _record(
        self, req: ParsedRequest, caller: Caller, now: datetime, status: str, length: timedelta | None = None
    ) -> dict[str, Any]:
        request_id = self.s.port.new_id()
        info = None
        if req.has_schedule or req.action == "selfActivate":
            if length is not None and req.end is None:
                info = schedule_info(req.start, "afterDuration", None, length, format_duration(length))
            else:
                info = schedule_info(req.start, req.expiration_type, req.end, req.duration, req.duration_text)
        record: dict[str, Any] = {
            "id": request_id,
            "status": status,
            "completedDateTime": format_stamp(now),
            "createdDateTime": format_stamp(now),
            "approvalId": None,
            "customData": req.custom_data,
            "createdBy": {"user": {"id": caller.user_id or req.principal_id}},
            "action": req.action,
            "isValidationOnly": req.is_validation_only,
            "justification": req.justification,
            "scheduleInfo": info,
            "ticketInfo": {"ticketNumber": req.ticket_number, "ticketSystem": req.ticket_system},
            "accessId": req.access_id,
            "principalId": req.principal_id,
            "groupId": req.group_id,
            "targetScheduleId": f"{req.group_id}_{req.access_id}_{request_id}",
        }
        return record

    def _schedule(
        self,
        req: ParsedRequest,
        record: dict[str, Any],
        assignment_type: str,
        start: datetime,
        end: datetime | None,
        now: datetime,
    ) -> dict[str, Any]:
        info = record["scheduleInfo"] or schedule_info(start, "noExpiration", None, None, None)
        schedule: dict[str, Any] = {
            "id": record["targetScheduleId"],
            "scheduleInfo": copy.deepcopy(info),
            "createdUsing": record["id"],
            "createdDateTime": format_stamp(now),
            "modifiedDateTime": None,
            "status": "Provisioned",
            "memberType": "Direct",
            "accessId": req.access_id,
            "principalId": req.principal_id,
            "groupId": req.group_id,
        }
        if req.kind == "assignment":
            schedule["assignmentType"] = assignment_type
        return schedule

    def _finish(
        self, kind: str, record: dict[str, Any], schedule: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        self.s.schedules.add(kind, schedule)
        if kind == "assignment" and window_of(schedule["scheduleInfo"]).start <= now:
            self.s.apply(schedule)
        self.s.requests[kind][record["id"]] = record
        return copy.deepcopy(record)

    def _audit_pair(
        self, req: ParsedRequest, caller: Caller, record: dict[str, Any], timebound: bool
    ) -> None:
        details = self._details(req, record)
        for stage in ("requested", "completed"):
            name = audit.admin_activity(req.kind, req.action, stage, timebound)
            if stage == "completed" and name.startswith("Update"):
                continue  # extend/update have a single documented activity name
            self.s.audit.write(
                AuditEvent(name, req.group_id, req.principal_id, caller.user_id, details, record["id"])
            )

    @staticmethod
    def _details(req: ParsedRequest, record: dict[str, Any]) -> dict[str, str | None]:
        info = record["scheduleInfo"] or {}
        return {
            "Justification": req.justification,
            "TicketNumber": req.ticket_number,
            "TicketSystem": req.ticket_system,
            "RequestId": record["id"],
            "StartTime": info.get("startDateTime"),
            "ExpirationTime": format_datetime(window_of(info).end) if info else None,
        }
