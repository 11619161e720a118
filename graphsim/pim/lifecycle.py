"""What happens to PIM state as time passes or approvers decide.

tick(now) runs whenever the simulated clock moves: assignment schedules that have started grant
membership, ended ones take it away ("Remove member from role (PIM activation expired)"), ended
eligibilities leave the lists, and activations still waiting for approval past the approval
stage's timeout expire ("PIM activation request expired"). Approve / deny / cancel act on a
PendingApproval activation.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from graphsim.errors import GraphError
from graphsim.pim import audit
from graphsim.pim.audit import AuditEvent
from graphsim.pim.enforcement import approval_timeout
from graphsim.pim.schedules import window_of
from graphsim.pim.store import PimStore
from graphsim.pim.values import format_datetime, format_stamp, parse_datetime


class Lifecycle:
    """Clock-driven transitions and approval decisions."""

    def __init__(self, store: PimStore) -> None:
        self.s = store

    def tick(self, now: datetime) -> None:
        """Bring every schedule and pending request up to `now`."""
        self._assignments(now)
        self._eligibilities(now)
        self._pending(now)

    def decide(
        self, approval_id: str, approve: bool, reviewer: str | None, justification: str | None = None
    ) -> dict[str, Any]:
        """Approve or deny a pending activation; returns the updated request."""
        record = self._pending_request(approval_id)
        now = self.s.port.now()
        details = {"Justification": justification, "RequestId": record["id"]}
        group_id, principal_id = record["groupId"], record["principalId"]
        if not approve:
            record.update(status="Denied", completedDateTime=format_stamp(now))
            self.s.audit.write(
                AuditEvent(audit.ACTIVATION_DENIED, group_id, principal_id, reviewer, details, record["id"])
            )
            return copy.deepcopy(record)
        record["scheduleInfo"] = _restart(record["scheduleInfo"], now)
        record.update(status="Provisioned", completedDateTime=format_stamp(now))
        schedule = _schedule_for(record, now)
        self.s.schedules.add("assignment", schedule)
        if window_of(schedule["scheduleInfo"]).start <= now:
            self.s.apply(schedule)
        for name in (audit.ACTIVATION_APPROVED, audit.ACTIVATION_COMPLETED):
            self.s.audit.write(AuditEvent(name, group_id, principal_id, reviewer, details, record["id"]))
        return copy.deepcopy(record)

    def cancel(self, kind: str, request_id: str, caller: str | None) -> None:
        """Cancel a request that is still PendingApproval (POST …/{id}/cancel)."""
        record = self.s.request(kind, request_id)
        if record["status"] != "PendingApproval":
            raise GraphError(
                400, "BadRequest", "Only a request in the PendingApproval state can be canceled."
            )
        record.update(status="Canceled", completedDateTime=format_stamp(self.s.port.now()))
        self.s.audit.write(
            AuditEvent(
                audit.ACTIVATION_CANCELED,
                record["groupId"],
                record["principalId"],
                caller or record["principalId"],
                {"RequestId": request_id},
                request_id,
            )
        )

    def _pending_request(self, approval_id: str) -> dict[str, Any]:
        for record in self.s.requests["assignment"].values():
            if record.get("approvalId") == approval_id:
                if record["status"] != "PendingApproval":
                    raise GraphError(
                        400, "BadRequest", f"The request '{record['id']}' is not pending approval."
                    )
                return record
        raise GraphError(404, "Request_ResourceNotFound", f"The approval '{approval_id}' was not found.")

    def _assignments(self, now: datetime) -> None:
        for schedule in list(self.s.schedules.live["assignment"].values()):
            window = window_of(schedule["scheduleInfo"])
            if window.end is not None and window.end <= now:
                was_applied = schedule["id"] in self.s.schedules.applied
                self.s.schedules.end("assignment", schedule["id"])
                if was_applied:
                    self.s.unapply(schedule, now)
                activated = schedule.get("assignmentType") == "Activated"
                name = (
                    audit.ACTIVATION_EXPIRED
                    if activated
                    else audit.admin_activity("assignment", "adminRemove", "completed", True)
                )
                self._expired(name, schedule)
            elif window.start <= now and schedule["id"] not in self.s.schedules.applied:
                self.s.apply(schedule)

    def _eligibilities(self, now: datetime) -> None:
        for schedule in list(self.s.schedules.live["eligibility"].values()):
            end = window_of(schedule["scheduleInfo"]).end
            if end is not None and end <= now:
                self.s.schedules.end("eligibility", schedule["id"])
                self._expired(audit.admin_activity("eligibility", "adminRemove", "completed", True), schedule)

    def _pending(self, now: datetime) -> None:
        for record in self.s.requests["assignment"].values():
            if record["status"] != "PendingApproval":
                continue
            rules = self.s.rules(record["groupId"], record["accessId"])
            if parse_datetime(record["createdDateTime"], "createdDateTime") + approval_timeout(rules) <= now:
                record.update(status="Canceled", completedDateTime=format_stamp(now))
                self.s.audit.write(
                    AuditEvent(
                        audit.ACTIVATION_REQUEST_EXPIRED,
                        record["groupId"],
                        record["principalId"],
                        None,
                        {"RequestId": record["id"]},
                        record["id"],
                    )
                )

    def _expired(self, name: str, schedule: dict[str, Any]) -> None:
        self.s.audit.write(
            AuditEvent(
                name,
                schedule["groupId"],
                schedule["principalId"],
                None,
                {"ScheduleId": schedule["id"]},
                schedule.get("createdUsing"),
            )
        )


def _restart(info: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An approved activation starts when approved (or later if asked) and keeps its length."""
    out = copy.deepcopy(info)
    start = max(parse_datetime(info["startDateTime"], "startDateTime"), now)
    out["startDateTime"] = format_stamp(start)
    expiration = out["expiration"]
    if expiration.get("type") == "afterDateTime":
        end = parse_datetime(expiration["endDateTime"], "endDateTime")
        expiration["endDateTime"] = format_datetime(max(end, start + timedelta(minutes=5)))
    return out


def _schedule_for(record: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "id": record["targetScheduleId"],
        "scheduleInfo": copy.deepcopy(record["scheduleInfo"]),
        "createdUsing": record["id"],
        "createdDateTime": format_stamp(now),
        "modifiedDateTime": None,
        "status": "Provisioned",
        "memberType": "Direct",
        "accessId": record["accessId"],
        "principalId": record["principalId"],
        "groupId": record["groupId"],
        "assignmentType": "Activated",
    }
