"""Findings an auditor should see without asking, computed from plain inputs (no I/O).

- activation_without_ticket: an activation with no ticket number where the profile requires one;
- activation_too_long: an activation whose duration exceeds the profile's maximum;
- member_bypasses_pim: a group member with no PIM assignment covering now (added around PIM);
- direct_assignment_bypasses_pim: an app role assignment on the app to anyone but its groups;
- eligibility_without_expiry: a permanent eligibility where the profile forbids permanent ones;
- eligibility_lapsing: an eligibility ending within the lapse window (default 14 days), so its
  owner can renew through a ticket before access breaks; PIM itself warns nobody about this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from shared.compliance import graph_values as gv
from shared.compliance.events import AppRef, ComplianceEvent, EventKind, format_time
from shared.compliance.expiry import InstanceLike

DEFAULT_LAPSE_WINDOW: Final = timedelta(days=14)


class FindingKind(StrEnum):
    """What is wrong (or about to be)."""

    ACTIVATION_WITHOUT_TICKET = "activation_without_ticket"
    ACTIVATION_TOO_LONG = "activation_too_long"
    MEMBER_BYPASSES_PIM = "member_bypasses_pim"
    DIRECT_ASSIGNMENT_BYPASSES_PIM = "direct_assignment_bypasses_pim"
    ELIGIBILITY_WITHOUT_EXPIRY = "eligibility_without_expiry"
    ELIGIBILITY_LAPSING = "eligibility_lapsing"


class Severity(StrEnum):
    """How urgent: high = access outside PIM now; medium = policy breach; low = act soon."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


_SEVERITY: Final[Mapping[FindingKind, Severity]] = {
    FindingKind.MEMBER_BYPASSES_PIM: Severity.HIGH,
    FindingKind.DIRECT_ASSIGNMENT_BYPASSES_PIM: Severity.HIGH,
    FindingKind.ACTIVATION_WITHOUT_TICKET: Severity.MEDIUM,
    FindingKind.ACTIVATION_TOO_LONG: Severity.MEDIUM,
    FindingKind.ELIGIBILITY_WITHOUT_EXPIRY: Severity.MEDIUM,
    FindingKind.ELIGIBILITY_LAPSING: Severity.LOW,
}


@dataclass(frozen=True)
class ProfileRequirements:
    """The parts of an app's policy profile that findings check."""

    requires_ticket: bool
    max_activation: timedelta
    allows_permanent_eligibility: bool


@dataclass(frozen=True)
class Membership:
    """A current member of one of the app's groups (from `GET /groups/{id}/members`)."""

    group_id: str
    principal_id: str


@dataclass(frozen=True)
class DirectAssignment:
    """An app role assignment on the app's service principal (`appRoleAssignedTo`)."""

    assignment_id: str
    principal_id: str
    principal_type: str
    principal_name: str | None = None


@dataclass(frozen=True)
class Finding:
    """One finding: evidence ids point at events (event_id) or at the observed objects."""

    kind: FindingKind
    severity: Severity
    app_id: str
    subject: str
    detail: str
    evidence: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class AppState:
    """What is observed now for one app: its groups, eligibilities, PIM-active and actual members."""

    group_ids: frozenset[str]
    eligibilities: tuple[InstanceLike, ...] = ()
    active: tuple[InstanceLike, ...] = ()
    members: tuple[Membership, ...] = ()
    direct_assignments: tuple[DirectAssignment, ...] = ()
    upns: Mapping[str, str] = field(default_factory=dict, hash=False)


def compute_findings(
    app: AppRef,
    requirements: ProfileRequirements,
    events: Iterable[ComplianceEvent],
    state: AppState,
    now: datetime,
    lapse_window: timedelta = DEFAULT_LAPSE_WINDOW,
) -> list[Finding]:
    """All findings for one app, most severe first."""
    found = [
        *activation_findings(app, requirements, events),
        *bypass_findings(app, state, now),
        *eligibility_findings(app, requirements, state, now, lapse_window),
    ]
    order = list(Severity)
    return sorted(found, key=lambda f: (order.index(f.severity), f.kind, f.subject))


def activation_findings(
    app: AppRef, requirements: ProfileRequirements, events: Iterable[ComplianceEvent]
) -> list[Finding]:
    """Activations without a required ticket, and activations longer than the profile allows."""
    found = []
    for event in events:
        if event.event is not EventKind.ACTIVATED:
            continue
        who = event.user_upn or event.user_id or "?"
        if requirements.requires_ticket and not event.ticket_number:
            detail = f"activation at {format_time(event.time)} without a ticket; the profile requires one"
            found.append(_finding(FindingKind.ACTIVATION_WITHOUT_TICKET, app, who, detail, event.event_id))
        length = activation_length(event)
        if length is not None and length > requirements.max_activation:
            detail = (f"activation at {format_time(event.time)} for {gv.iso_duration(length)}; the profile "
                      f"allows {gv.iso_duration(requirements.max_activation)}")
            found.append(_finding(FindingKind.ACTIVATION_TOO_LONG, app, who, detail, event.event_id))
    return found


def activation_length(event: ComplianceEvent) -> timedelta | None:
    """The activation's length from start/end, else from its duration text."""
    if event.start is not None and event.end is not None:
        return event.end - event.start
    return gv.duration_of(event.duration)


def bypass_findings(app: AppRef, state: AppState, now: datetime) -> list[Finding]:
    """Members without a PIM assignment covering now, and app role assignments outside the groups."""
    covered = {(a.group_id, a.principal_id) for a in state.active if _covers(a, now)}
    found = [
        _finding(FindingKind.MEMBER_BYPASSES_PIM, app, state.upns.get(m.principal_id, m.principal_id),
                 f"member of group {m.group_id} without an active PIM assignment or activation",
                 f"member:{m.group_id}:{m.principal_id}")
        for m in state.members if (m.group_id, m.principal_id) not in covered
    ]
    found += [
        _finding(FindingKind.DIRECT_ASSIGNMENT_BYPASSES_PIM, app, d.principal_name or d.principal_id,
                 f"{d.principal_type} {d.principal_id} is assigned to the app directly, not via its group",
                 f"appRoleAssignment:{d.assignment_id}")
        for d in state.direct_assignments if d.principal_id not in state.group_ids
    ]
    return found


def eligibility_findings(
    app: AppRef, requirements: ProfileRequirements, state: AppState, now: datetime, lapse_window: timedelta
) -> list[Finding]:
    """Permanent eligibilities the profile forbids, and eligibilities lapsing within the window."""
    found = []
    for e in state.eligibilities:
        who = state.upns.get(e.principal_id, e.principal_id)
        evidence = f"eligibility:{e.group_id}:{e.principal_id}"
        if e.end is None and not requirements.allows_permanent_eligibility:
            detail = f"permanent eligibility for group {e.group_id}; the profile requires an expiry"
            found.append(_finding(FindingKind.ELIGIBILITY_WITHOUT_EXPIRY, app, who, detail, evidence))
        elif e.end is not None and now < e.end <= now + lapse_window:
            detail = f"eligibility for group {e.group_id} ends {format_time(e.end)}; renew through a ticket"
            found.append(_finding(FindingKind.ELIGIBILITY_LAPSING, app, who, detail, evidence))
    return found


def _covers(instance: InstanceLike, now: datetime) -> bool:
    return (instance.start is None or instance.start <= now) and (instance.end is None or now < instance.end)


def _finding(kind: FindingKind, app: AppRef, subject: str, detail: str, evidence: str) -> Finding:
    return Finding(kind, _SEVERITY[kind], app.app_id, subject, detail, (evidence,))
