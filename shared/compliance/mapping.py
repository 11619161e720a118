"""Graph JSON -> compliance events: PIM for Groups schedule requests and PIM directory audit entries.

One source per fact, so a fact is never counted twice:
- schedule requests (assignmentScheduleRequests, eligibilityScheduleRequests) are the record of
  activations, deactivations, denials and admin grants/removals: they carry justification, ticket
  and schedule;
- directory audit entries (loggedByService 'PIM') add only what requests do not say: who approved
  or denied, approvals that timed out, and activations that PIM ended because their time ran out.
  The other PIM activities ("... requested", "... completed") repeat a request and map to nothing.

Every mapper is total: on an entry it does not understand it returns None, it never raises.
Removal requests report status `Revoked` with `completedDateTime` null (Graph docs, AdminRemove
examples), so `Revoked` counts as done and the event time falls back to `createdDateTime`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from shared.compliance import graph_values as gv
from shared.compliance.events import AppRef, Cause, ComplianceEvent, EventKind, Source

_DONE: Final = frozenset({"provisioned", "granted", "schedulecreated", "revoked"})
_AWAITING_APPROVAL: Final = frozenset({"pendingapproval", "pendingadmindecision"})
_EXTEND: Final = frozenset({"adminupdate", "adminextend", "adminrenew", "selfextend", "selfrenew"})

_ACTIVATION_BY_STATUS: Final[Mapping[str, EventKind]] = {
    **dict.fromkeys(_DONE, EventKind.ACTIVATED),
    **dict.fromkeys(_AWAITING_APPROVAL, EventKind.APPROVAL_REQUESTED),
    "denied": EventKind.ACTIVATION_DENIED,
    "canceled": EventKind.ACTIVATION_CANCELED,
    "failed": EventKind.ACTIVATION_FAILED,
}
_ASSIGNMENT_DONE: Final[Mapping[str, EventKind]] = {
    "selfdeactivate": EventKind.DEACTIVATED,
    "adminassign": EventKind.ASSIGNMENT_GRANTED,
    "adminremove": EventKind.ASSIGNMENT_REMOVED,
    **dict.fromkeys(_EXTEND, EventKind.ASSIGNMENT_EXTENDED),
}
_ELIGIBILITY_DONE: Final[Mapping[str, EventKind]] = {
    "adminassign": EventKind.ELIGIBILITY_GRANTED,
    "adminremove": EventKind.ELIGIBILITY_REMOVED,
    **dict.fromkeys(_EXTEND, EventKind.ELIGIBILITY_EXTENDED),
}
_ENDING: Final = frozenset(
    {EventKind.DEACTIVATED, EventKind.ASSIGNMENT_REMOVED, EventKind.ELIGIBILITY_REMOVED})

AUDIT_ACTIVITIES: Final[Mapping[str, tuple[EventKind, str]]] = {
    "add member to role request approved (pim activation)": (EventKind.APPROVAL_GRANTED, "approver"),
    "add member to role request denied (pim activation)": (EventKind.APPROVAL_DENIED, "approver"),
    "pim activation request expired": (EventKind.APPROVAL_EXPIRED, "approval_timeout"),
    "remove member from role (pim activation expired)": (EventKind.ACTIVATION_EXPIRED, "schedule_end"),
}
"""Lower-cased PIM activity name -> (event kind, trigger). Names: graph.md 6.1 / entra-docs."""


@dataclass(frozen=True)
class MappingContext:
    """What Graph entries do not say: the app, UPNs by object id, PIM Warden's own principal ids."""

    app: AppRef
    group_id: str | None = None
    upns: Mapping[str, str] = field(default_factory=dict, hash=False)
    warden_principal_ids: frozenset[str] = frozenset()

    def upn(self, principal_id: str | None) -> str | None:
        """The UPN of a principal when known."""
        return self.upns.get(principal_id) if principal_id else None


def map_assignment_request(request: object, ctx: MappingContext) -> ComplianceEvent | None:
    """An assignmentScheduleRequest (member role) as an event, or None when it says nothing final."""
    action, status = gv.lower(request, "action"), gv.lower(request, "status")
    if action == "selfactivate":
        kind = _ACTIVATION_BY_STATUS.get(status)
    else:
        kind = _ASSIGNMENT_DONE.get(action) if status in _DONE else None
    return _request_event(request, ctx, kind, Source.ASSIGNMENT_REQUEST)


def map_eligibility_request(request: object, ctx: MappingContext) -> ComplianceEvent | None:
    """An eligibilityScheduleRequest (member role) as an event, or None."""
    action, status = gv.lower(request, "action"), gv.lower(request, "status")
    kind = _ELIGIBILITY_DONE.get(action) if status in _DONE else None
    return _request_event(request, ctx, kind, Source.ELIGIBILITY_REQUEST)


def request_changed_at(request: object) -> datetime | None:
    """When a request last changed state (completed, else created): its position for the cursor."""
    return gv.time_at(request, "completedDateTime") or gv.time_at(request, "createdDateTime")


def map_directory_audit(entry: object, ctx: MappingContext) -> ComplianceEvent | None:
    """A PIM directoryAudit entry as an event, for the activities in AUDIT_ACTIVITIES; else None."""
    known = AUDIT_ACTIVITIES.get(gv.lower(entry, "activityDisplayName"))
    entry_id, when = gv.text(entry, "id"), gv.time_at(entry, "activityDateTime")
    if known is None or entry_id is None or when is None or not _audit_applies(entry):
        return None
    group_id = _target(entry, "group").get("id") or ctx.group_id
    if group_id is None:
        return None
    kind, trigger = known
    user = _target(entry, "user")
    approver = None
    if kind in (EventKind.APPROVAL_GRANTED, EventKind.APPROVAL_DENIED):
        approver = gv.text(entry, "initiatedBy", "user", "userPrincipalName") or gv.text(
            entry, "initiatedBy", "user", "id")
    return ComplianceEvent(
        time=when, event=kind, app_id=ctx.app.app_id, app_name=ctx.app.app_name, group_id=group_id,
        user_id=user.get("id"), user_upn=user.get("userPrincipalName") or ctx.upn(user.get("id")),
        source=Source.DIRECTORY_AUDIT, source_id=entry_id, cause=Cause.PIM, trigger=trigger,
        end=when if kind is EventKind.ACTIVATION_EXPIRED else None, approver=approver,
        detail=gv.text(entry, "activityDisplayName"),
    )


def is_ending(event: ComplianceEvent) -> bool:
    """True for events that end access early (deactivation, removal): they rule out an expiry."""
    return event.event in _ENDING


def _request_event(
    request: object, ctx: MappingContext, kind: EventKind | None, source: Source
) -> ComplianceEvent | None:
    request_id, group_id = gv.text(request, "id"), gv.text(request, "groupId")
    when = request_changed_at(request)
    if kind is None or request_id is None or group_id is None or when is None:
        return None
    if gv.lower(request, "accessId") != "member":
        return None
    if kind is EventKind.APPROVAL_REQUESTED:
        when = gv.time_at(request, "createdDateTime") or when
    principal = gv.text(request, "principalId")
    start, end, duration = _schedule(request) if kind not in _ENDING else (None, None, None)
    cause, trigger = _request_cause(request, ctx)
    return ComplianceEvent(
        time=when, event=kind, app_id=ctx.app.app_id, app_name=ctx.app.app_name, group_id=group_id,
        user_id=principal, user_upn=ctx.upn(principal), source=source, source_id=request_id,
        cause=cause, trigger=trigger, start=start, end=end, duration=duration,
        justification=gv.text(request, "justification"),
        ticket_system=gv.text(request, "ticketInfo", "ticketSystem"),
        ticket_number=gv.text(request, "ticketInfo", "ticketNumber"),
        detail=f"request status {gv.text(request, 'status')}",
    )


def _schedule(request: object) -> tuple[datetime | None, datetime | None, str | None]:
    start = gv.time_at(request, "scheduleInfo", "startDateTime")
    expiration = gv.dig(request, "scheduleInfo", "expiration")
    end = gv.time_at(expiration, "endDateTime")
    length = gv.duration_of(gv.dig(expiration, "duration"))
    if end is None and start is not None and length is not None:
        end = start + length
    if length is None and start is not None and end is not None:
        length = end - start
    return start, end, gv.iso_duration(length)


def _request_cause(request: object, ctx: MappingContext) -> tuple[Cause, str]:
    creator = gv.text(request, "createdBy", "user", "id") or gv.text(
        request, "createdBy", "application", "id")
    if creator is not None and creator.lower() in ctx.warden_principal_ids:
        ticket = gv.text(request, "ticketInfo", "ticketNumber")
        return Cause.PIM_WARDEN, f"ticket:{ticket}" if ticket else "reconcile"
    if gv.lower(request, "action").startswith("self"):
        return Cause.PIM, "self_service"
    return Cause.PIM, f"admin:{creator}" if creator else "admin"


def _audit_applies(entry: object) -> bool:
    return gv.lower(entry, "loggedByService") == "pim" and gv.lower(entry, "result") in ("success", "")


def _target(entry: object, kind: str) -> dict[str, str]:
    """The first target resource of `kind` ('group' / 'user'); docs spell the type key `Type` or `type`."""
    targets = gv.key_ci(entry, "targetResources", "targetResource")
    for target in targets if isinstance(targets, list) else ():
        if str(gv.key_ci(target, "type") or "").lower() == kind:
            return {k: v for k in ("id", "userPrincipalName") if (v := gv.text(target, k)) is not None}
    return {}
