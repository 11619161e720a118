"""Findings: each kind, from plain inputs."""

from __future__ import annotations

from datetime import timedelta

from shared.compliance.events import EventKind
from shared.compliance.expiry import ScheduleInstance
from shared.compliance.findings import (
    AppState,
    DirectAssignment,
    Finding,
    FindingKind,
    Membership,
    ProfileRequirements,
    Severity,
    compute_findings,
)
from tests.unit.compliance.samples import APP, GROUP, at, make_event

NOW = at("2026-01-05T12:00")
STRICT = ProfileRequirements(requires_ticket=True, max_activation=timedelta(hours=1),
                             allows_permanent_eligibility=False)
LENIENT = ProfileRequirements(requires_ticket=False, max_activation=timedelta(hours=8),
                              allows_permanent_eligibility=True)


def kinds(findings: list[Finding]) -> list[tuple[FindingKind, str]]:
    return [(f.kind, f.subject) for f in findings]


def test_activation_without_ticket_and_too_long_point_at_the_event() -> None:
    no_ticket = make_event(1, ticket_number=None, start=at("2026-01-05T10:00"), end=at("2026-01-05T10:30"))
    too_long = make_event(2)  # two hours, with a ticket
    by_duration_only = make_event(3, start=None, end=None, duration="PT4H")
    not_activation = make_event(4, event=EventKind.DEACTIVATED, ticket_number=None)
    found = compute_findings(APP, STRICT, [no_ticket, too_long, by_duration_only, not_activation],
                             AppState(frozenset({GROUP})), NOW)
    assert kinds(found) == [
        (FindingKind.ACTIVATION_TOO_LONG, "user2@contoso.com"),
        (FindingKind.ACTIVATION_TOO_LONG, "user3@contoso.com"),
        (FindingKind.ACTIVATION_WITHOUT_TICKET, "user1@contoso.com"),
    ]
    assert found[2].evidence == (no_ticket.event_id,) and found[2].severity is Severity.MEDIUM
    assert "PT2H" in found[0].detail and "PT1H" in found[0].detail
    assert compute_findings(APP, LENIENT, [no_ticket, too_long], AppState(frozenset({GROUP})), NOW) == []


def test_members_without_pim_assignment_and_direct_assignments_bypass_pim() -> None:
    active = (ScheduleInstance("alice", GROUP, at("2026-01-05T11:00"), at("2026-01-05T13:00"), "activated"),
              ScheduleInstance("ended", GROUP, at("2026-01-05T09:00"), at("2026-01-05T10:00"), "activated"))
    state = AppState(
        group_ids=frozenset({GROUP}), active=active,
        members=(Membership(GROUP, "alice"), Membership(GROUP, "mallory"), Membership(GROUP, "ended")),
        direct_assignments=(DirectAssignment("a1", GROUP, "Group"),
                            DirectAssignment("a2", "eve", "User", "Eve Example")),
        upns={"mallory": "mallory@contoso.com"},
    )
    found = compute_findings(APP, LENIENT, [], state, NOW)
    assert kinds(found) == [
        (FindingKind.DIRECT_ASSIGNMENT_BYPASSES_PIM, "Eve Example"),
        (FindingKind.MEMBER_BYPASSES_PIM, "ended"),
        (FindingKind.MEMBER_BYPASSES_PIM, "mallory@contoso.com"),
    ]
    assert {f.severity for f in found} == {Severity.HIGH}
    assert found[0].evidence == ("appRoleAssignment:a2",)


def test_permanent_eligibility_where_forbidden_and_eligibility_lapsing_within_window() -> None:
    eligibilities = (
        ScheduleInstance("perm", GROUP, at("2025-01-01T00:00"), None),
        ScheduleInstance("soon", GROUP, at("2025-01-01T00:00"), NOW + timedelta(days=14)),
        ScheduleInstance("later", GROUP, at("2025-01-01T00:00"), NOW + timedelta(days=15)),
    )
    state = AppState(frozenset({GROUP}), eligibilities=eligibilities)
    found = compute_findings(APP, STRICT, [], state, NOW)
    assert kinds(found) == [(FindingKind.ELIGIBILITY_WITHOUT_EXPIRY, "perm"),
                            (FindingKind.ELIGIBILITY_LAPSING, "soon")]
    assert found[1].severity is Severity.LOW
    assert kinds(compute_findings(APP, LENIENT, [], state, NOW, lapse_window=timedelta(days=30))) == [
        (FindingKind.ELIGIBILITY_LAPSING, "later"), (FindingKind.ELIGIBILITY_LAPSING, "soon")]
