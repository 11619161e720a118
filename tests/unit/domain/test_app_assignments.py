"""One group per app role, whatever Graph shows (hypothesis): a second group of PIM Warden's naming
never stays a second way into the app, the guard group's assignment is never removed, and nobody else
loses an assignment beyond what exclusive mode already removes."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.actions import DriftKind, RemoveDirectAssignment
from shared.domain.app_assignments import guarding, our_groups
from shared.domain.ids import AppRoleAssignmentId, AppRoleId, GroupId, PrincipalId
from shared.domain.model import (
    AppRole,
    AppRoleAssignment,
    DesiredApp,
    ObservedApp,
    ObservedGroup,
    ObservedRole,
    PrincipalType,
    RecordState,
)
from shared.domain.planner import plan_app

from .builders import (
    NOW,
    PROFILES,
    ROLE_ADMIN,
    ROLE_ANALYST,
    SP_ID,
    analyst_role,
    desired_app,
    empty_observed,
    service_principal,
)
from .simulation import simulate
from .test_planner_properties import PROPERTY_SETTINGS, scenarios

EXTRA = [GroupId(f"extra-{n}") for n in range(3)]


@st.composite
def with_second_groups(draw: st.DrawFn) -> tuple[DesiredApp, ObservedApp]:
    """A scenario plus other groups holding assignments: some of our naming, some not, some duplicates."""
    desired, observed = draw(scenarios())
    ours = [str(r.group.unique_name) for r in desired.roles]
    names = {
        PrincipalId(g): draw(st.sampled_from([*ours, *(n.upper() for n in ours), "finance-team"]))
        for g in EXTRA
    }
    guards = [PrincipalId(s.group.id) for s in observed.roles.values() if s.group is not None]
    holders = st.sampled_from([*names, *guards])
    extra = tuple(
        AppRoleAssignment(AppRoleAssignmentId(f"g-ara{i}"), p, PrincipalType.GROUP, r, SP_ID)
        for i, (p, r) in enumerate(
            draw(st.lists(st.tuples(holders, st.sampled_from([ROLE_ANALYST, ROLE_ADMIN])), max_size=5))
        )
    )
    roles = {
        key: replace(seen, duplicate_group_ids=tuple(draw(st.lists(st.sampled_from(EXTRA), unique=True))))
        if seen.group is not None else seen
        for key, seen in observed.roles.items()
    }
    return desired, replace(
        observed,
        roles=roles,
        app_role_assignments=observed.app_role_assignments + extra,
        group_names={p: n for p, n in names.items() if draw(st.booleans())},
    )


def _planned(observed: ObservedApp, desired: DesiredApp) -> bool:
    return observed.service_principal is not None and desired.in_scope


@PROPERTY_SETTINGS
@given(with_second_groups())
def test_the_guard_groups_assignment_is_never_removed(scenario: tuple[DesiredApp, ObservedApp]) -> None:
    desired, observed = scenario
    keep = guarding(desired, observed)
    for action in plan_app(desired, observed, NOW).actions:
        if isinstance(action, RemoveDirectAssignment):
            assert (action.assignment.principal_id, action.assignment.app_role_id) not in keep


@PROPERTY_SETTINGS
@given(with_second_groups())
def test_no_app_role_is_left_held_by_two_of_our_groups(scenario: tuple[DesiredApp, ObservedApp]) -> None:
    desired, observed = scenario
    if not _planned(observed, desired):
        return
    after = simulate(desired, observed, plan_app(desired, observed, NOW), NOW)
    ours = our_groups(desired, observed)
    for role in desired.roles:
        holders = {
            a.principal_id for a in after.app_role_assignments
            if a.app_role_id == role.app_role_id and a.principal_id in ours
        }
        assert len(holders) <= 1, (role.app_role_id, holders)


@PROPERTY_SETTINGS
@given(with_second_groups())
def test_others_lose_assignments_only_in_exclusive_mode(scenario: tuple[DesiredApp, ObservedApp]) -> None:
    desired, observed = scenario
    ours = our_groups(desired, observed)
    for action in plan_app(desired, observed, NOW).actions:
        if isinstance(action, RemoveDirectAssignment) and action.assignment.principal_id not in ours:
            assert desired.exclusive
            assert action.assignment.principal_id not in desired.protected_principals


@PROPERTY_SETTINGS
@given(with_second_groups())
def test_one_run_still_converges(scenario: tuple[DesiredApp, ObservedApp]) -> None:
    desired, observed = scenario
    after = simulate(desired, observed, plan_app(desired, observed, NOW), NOW)
    assert plan_app(desired, after, NOW).actions == ()


def test_a_second_group_with_our_name_is_reported_and_its_assignment_removed_in_any_mode() -> None:
    sp = service_principal(analyst_role(), required=True)
    desired = desired_app(sp=sp, prof=PROFILES.get("standard"))
    assert not desired.exclusive
    role = desired.roles[0]
    guard = ObservedGroup(GroupId("guard"), role.group.unique_name, role.group.display_name,
                          role.group.description)
    second = PrincipalId("second")
    assignments = tuple(
        AppRoleAssignment(AppRoleAssignmentId(f"a-{p}"), PrincipalId(p), PrincipalType.GROUP,
                          role.app_role_id, SP_ID)
        for p in ("guard", "second", "someone-elses")
    )
    observed = replace(
        empty_observed(sp),
        roles={role.app_role_id: ObservedRole(role.app_role_id, group=guard, recorded_group_id=guard.id)},
        app_role_assignments=assignments,
        group_names={second: str(role.group.unique_name), PrincipalId("someone-elses"): "finance-team"},
        record_state=RecordState.ACTIVE,
    )
    plan = plan_app(desired, observed, NOW)
    removed = [a.assignment.principal_id for a in plan.actions if isinstance(a, RemoveDirectAssignment)]
    assert removed == [second]
    kinds = {(d.kind, d.repaired) for d in plan.drift}
    assert (DriftKind.DUPLICATE_GROUP, True) in kinds and (DriftKind.DIRECT_ASSIGNMENT, False) in kinds


def test_an_app_with_only_application_roles_gets_nothing_and_keeps_its_application_permissions() -> None:
    daemon_role = AppRole(AppRoleId("11111111-0000-0000-0000-000000000001"), "Data.Read", "Data.Read",
                          allowed_member_types=frozenset({"Application"}))
    sp = service_principal(daemon_role)
    desired = desired_app(sp=sp, prof=PROFILES.get("strict"))
    assert desired.exclusive and desired.roles == ()
    assert any("no user access to guard" in note for note in desired.notes)
    held = AppRoleAssignment(AppRoleAssignmentId("daemon"), PrincipalId("daemon-sp"),
                             PrincipalType.SERVICE_PRINCIPAL, daemon_role.id, SP_ID)
    plan = plan_app(desired, replace(empty_observed(sp), app_role_assignments=(held,)), NOW)
    assert plan.actions == () and plan.drift == ()


def test_exclusive_mode_leaves_assignments_of_roles_no_group_guards() -> None:
    sp = service_principal(analyst_role(), AppRole(ROLE_ADMIN, "Admin", "Admin",
                                                   allowed_member_types=frozenset({"Application"})))
    desired = desired_app(sp=sp, prof=PROFILES.get("strict"))
    assert [r.app_role_id for r in desired.roles] == [analyst_role().id]
    app_permission = AppRoleAssignment(AppRoleAssignmentId("p"), PrincipalId("daemon-sp"),
                                       PrincipalType.SERVICE_PRINCIPAL, ROLE_ADMIN, SP_ID)
    bypass = AppRoleAssignment(AppRoleAssignmentId("u"), PrincipalId("mallory"), PrincipalType.USER,
                               analyst_role().id, SP_ID)
    plan = plan_app(desired, replace(empty_observed(sp), app_role_assignments=(app_permission, bypass)), NOW)
    removed = [a.assignment for a in plan.actions if isinstance(a, RemoveDirectAssignment)]
    assert removed == [bypass]
