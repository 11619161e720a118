"""Planner behaviour case by case: onboarding, each drift, eligibility, deleted and out-of-scope apps."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shared.domain.actions import (
    ActionKind,
    AssignGroupToApp,
    CorrectPolicyRule,
    DriftKind,
    EligibilityChange,
    EnsureGroup,
    GrantEligibility,
    Plan,
    RecordAppDeleted,
    RemoveBypassMember,
    RemoveDirectAssignment,
    RemoveEligibility,
    UpdateEligibility,
    UpdateGroup,
)
from shared.domain.ids import DEFAULT_APP_ROLE_ID, AppRoleAssignmentId, AppRoleId, GroupId
from shared.domain.model import (
    AccessId,
    ActiveAssignment,
    AppRoleAssignment,
    AssignmentType,
    DesiredApp,
    EligibilityInstance,
    ObservedApp,
    ObservedRole,
    PrincipalType,
    RecordState,
)
from shared.domain.planner import plan_app
from shared.domain.rules import RuleId

from .builders import (
    ALICE,
    BOB,
    BREAK_GLASS,
    MALLORY,
    NOW,
    ROLE_ANALYST,
    SP_ID,
    analyst_role,
    desired_app,
    empty_observed,
    grant,
    profile,
    service_principal,
)
from .simulation import simulate


def converged(desired: DesiredApp, observed: ObservedApp | None = None) -> ObservedApp:
    """The state after one successful run from `observed` (a fresh app by default)."""
    start = observed or empty_observed(service_principal(*_roles_of(desired)))
    return simulate(desired, start, plan_app(desired, start, NOW), NOW)


def _roles_of(desired: DesiredApp) -> tuple:
    return tuple(analyst_role() for role in desired.roles if role.app_role_id == ROLE_ANALYST)


def role_state(observed: ObservedApp, role: AppRoleId = ROLE_ANALYST) -> ObservedRole:
    return observed.roles[role]


def with_role(observed: ObservedApp, seen: ObservedRole) -> ObservedApp:
    return replace(observed, roles={**observed.roles, seen.app_role_id: seen})


def kinds(plan: Plan) -> list[ActionKind]:
    return [action.kind for action in plan.actions]


def drift_kinds(plan: Plan) -> set[DriftKind]:
    return {d.kind for d in plan.drift}


def test_cold_onboarding_plans_group_then_policy_then_assignment_then_eligibility() -> None:
    desired = desired_app(grants=(grant(ALICE),))
    plan = plan_app(desired, empty_observed(), NOW)
    order = kinds(plan)
    assert order[0] is ActionKind.ENSURE_GROUP
    assert order.index(ActionKind.CORRECT_POLICY_RULE) < order.index(ActionKind.ASSIGN_GROUP_TO_APP)
    assert order.index(ActionKind.ASSIGN_GROUP_TO_APP) < order.index(ActionKind.GRANT_ELIGIBILITY)
    assert ActionKind.REQUIRE_ASSIGNMENT in order
    ensure = plan.actions[0]
    assert isinstance(ensure, EnsureGroup) and ensure.display_name == "FinReport-SeniorAnalyst-SecureAccess"
    # Every managed rule of both policies is set before the group is onboarded, keyed by uniqueName.
    corrections = [a for a in plan.actions if isinstance(a, CorrectPolicyRule)]
    assert {(a.access_id, a.rule_id) for a in corrections} == {
        (access, rule) for access in AccessId for rule in desired.rules_for(access)
    }
    assert all(a.policy_id is None and a.unique_name == ensure.unique_name for a in corrections)
    assert plan.drift == ()  # onboarding is not drift


def test_converged_app_yields_an_empty_plan() -> None:
    desired = desired_app(grants=(grant(ALICE), grant(BOB)))
    plan = plan_app(desired, converged(desired), NOW)
    assert plan.is_empty and plan.drift == ()


def test_app_without_roles_gets_one_group_on_the_default_role() -> None:
    sp = service_principal()
    desired = desired_app(sp=sp)
    plan = plan_app(desired, empty_observed(sp), NOW)
    assign = next(a for a in plan.actions if isinstance(a, AssignGroupToApp))
    ensure = next(a for a in plan.actions if isinstance(a, EnsureGroup))
    assert assign.app_role_id == DEFAULT_APP_ROLE_ID
    assert ensure.display_name == "FinReport-User-SecureAccess"


def test_deleted_group_is_recreated_and_reported_as_drift() -> None:
    desired = desired_app()
    state = converged(desired)
    state = with_role(state, replace(role_state(state), group=None, member_policy=None, owner_policy=None))
    plan = plan_app(desired, state, NOW)
    assert isinstance(plan.actions[0], EnsureGroup)
    assert DriftKind.GROUP_MISSING in drift_kinds(plan)


def test_group_not_yet_visible_is_ensured_again_by_unique_name_only() -> None:
    desired = desired_app()
    state = with_role(empty_observed(), ObservedRole(ROLE_ANALYST, awaiting_replication=True))
    plan = plan_app(desired, state, NOW)
    assert kinds(plan).count(ActionKind.ENSURE_GROUP) == 1
    assert any("not visible yet" in notice for notice in plan.notices)


def test_renamed_app_updates_the_display_name_and_keeps_the_unique_name() -> None:
    desired = desired_app()
    state = converged(desired)
    renamed = desired_app(sp=service_principal(analyst_role(), name="FinReport 2"))
    plan = plan_app(renamed, state, NOW)
    update = plan.actions[0]
    assert isinstance(update, UpdateGroup) and update.display_name == "FinReport 2-SeniorAnalyst-SecureAccess"
    assert update.unique_name == role_state(state).group.unique_name  # type: ignore[union-attr]
    assert kinds(plan) == [ActionKind.UPDATE_GROUP]


def test_policy_rule_changed_in_the_portal_is_corrected_and_recorded() -> None:
    desired = desired_app()
    state = converged(desired)
    seen = role_state(state)
    policy = seen.member_policy
    assert policy is not None
    tampered = dict(policy.rules[RuleId.EXPIRATION_ENDUSER_ASSIGNMENT]) | {"maximumDuration": "PT8H"}
    state = with_role(
        state,
        replace(
            seen,
            member_policy=replace(
                policy, rules={**policy.rules, RuleId.EXPIRATION_ENDUSER_ASSIGNMENT: tampered}
            ),
        ),
    )
    plan = plan_app(desired, state, NOW)
    (action,) = plan.actions
    assert isinstance(action, CorrectPolicyRule)
    assert (
        action.rule_id == RuleId.EXPIRATION_ENDUSER_ASSIGNMENT and action.body["maximumDuration"] == "PT30M"
    )
    assert action.policy_id == policy.policy_id
    (drift,) = plan.drift
    assert drift.kind is DriftKind.POLICY_RULE_CHANGED and "PT8H" in drift.found and "PT30M" in drift.desired


def test_removed_group_assignment_is_restored() -> None:
    desired = desired_app()
    state = converged(desired)
    state = replace(state, app_role_assignments=())
    plan = plan_app(desired, state, NOW)
    assert kinds(plan) == [ActionKind.ASSIGN_GROUP_TO_APP]
    assert drift_kinds(plan) == {DriftKind.ASSIGNMENT_MISSING}


def test_assignment_required_switched_off_is_switched_back_on() -> None:
    desired = desired_app()
    state = converged(desired)
    assert state.service_principal is not None
    state = replace(
        state, service_principal=replace(state.service_principal, app_role_assignment_required=False)
    )
    plan = plan_app(desired, state, NOW)
    assert kinds(plan) == [ActionKind.REQUIRE_ASSIGNMENT]
    assert drift_kinds(plan) == {DriftKind.ASSIGNMENT_NOT_REQUIRED}


def _add_member(state: ObservedApp, principal: str) -> ObservedApp:
    seen = role_state(state)
    assert seen.group is not None
    group = replace(seen.group, member_ids=seen.group.member_ids | {principal})
    return with_role(state, replace(seen, group=group))


@pytest.mark.parametrize(("profile_name", "removed"), [("standard", True), ("report-only", False)])
def test_member_added_around_pim_is_removed_or_reported(profile_name: str, removed: bool) -> None:
    desired = desired_app(prof=profile(profile_name))
    state = _add_member(converged(desired), MALLORY)
    plan = plan_app(desired, state, NOW)
    assert [a.principal_id for a in plan.actions if isinstance(a, RemoveBypassMember)] == (
        [MALLORY] if removed else []
    )
    (drift,) = plan.drift
    assert drift.kind is DriftKind.BYPASS_MEMBER and drift.repaired is removed


def test_member_with_an_active_pim_activation_is_not_a_bypass() -> None:
    desired = desired_app(grants=(grant(ALICE),))
    state = _add_member(converged(desired), ALICE)
    seen = role_state(state)
    assert seen.group is not None
    activation = ActiveAssignment(
        ALICE,
        seen.group.id,
        AccessId.MEMBER,
        NOW - timedelta(minutes=10),
        NOW + timedelta(minutes=20),
        AssignmentType.ACTIVATED,
    )
    state = with_role(state, replace(seen, active_assignments=(activation,)))
    plan = plan_app(desired, state, NOW)
    assert plan.is_empty and plan.drift == ()


@pytest.mark.parametrize("started_after_now", [timedelta(seconds=1), timedelta(minutes=2)])
def test_member_who_activated_while_we_observed_is_not_a_bypass(started_after_now: timedelta) -> None:
    """The activation started after the planner's `now` was taken: still not someone who got in around PIM."""
    desired = desired_app(grants=(grant(ALICE),))
    state = _add_member(converged(desired), ALICE)
    seen = role_state(state)
    assert seen.group is not None
    start = NOW + started_after_now
    activation = ActiveAssignment(
        ALICE, seen.group.id, AccessId.MEMBER, start, start + timedelta(minutes=30), AssignmentType.ACTIVATED
    )
    state = with_role(state, replace(seen, active_assignments=(activation,)))
    plan = plan_app(desired, state, NOW)
    assert plan.is_empty and plan.drift == ()


def test_member_whose_activation_has_ended_is_a_bypass() -> None:
    desired = desired_app(grants=(grant(ALICE),))
    state = _add_member(converged(desired), ALICE)
    seen = role_state(state)
    assert seen.group is not None
    ended = ActiveAssignment(
        ALICE,
        seen.group.id,
        AccessId.MEMBER,
        NOW - timedelta(hours=1),
        NOW - timedelta(minutes=30),
        AssignmentType.ACTIVATED,
    )
    state = with_role(state, replace(seen, active_assignments=(ended,)))
    assert [a.principal_id for a in plan_app(desired, state, NOW).actions] == [ALICE]


def test_protected_principal_is_never_removed() -> None:
    desired = desired_app(prof=profile("strict"), protected_principals=frozenset({BREAK_GLASS}))
    state = _add_member(converged(desired), BREAK_GLASS)
    direct = AppRoleAssignment(
        AppRoleAssignmentId("d1"), BREAK_GLASS, PrincipalType.USER, ROLE_ANALYST, SP_ID
    )
    state = replace(state, app_role_assignments=(*state.app_role_assignments, direct))
    plan = plan_app(desired, state, NOW)
    assert plan.is_empty
    assert len(plan.notices) == 2


def _direct(principal: str = MALLORY) -> AppRoleAssignment:
    return AppRoleAssignment(
        AppRoleAssignmentId(f"d-{principal}"), principal, PrincipalType.USER, ROLE_ANALYST, SP_ID, "Mallory"
    )


@pytest.mark.parametrize(("profile_name", "removed"), [("strict", True), ("standard", False)])
def test_direct_assignment_is_removed_in_exclusive_mode_else_reported(
    profile_name: str, removed: bool
) -> None:
    desired = desired_app(prof=profile(profile_name))
    state = converged(desired)
    state = replace(state, app_role_assignments=(*state.app_role_assignments, _direct()))
    plan = plan_app(desired, state, NOW)
    removals = [a for a in plan.actions if isinstance(a, RemoveDirectAssignment)]
    assert [r.assignment for r in removals] == ([_direct()] if removed else [])  # carries what undo needs
    (drift,) = plan.drift
    assert drift.kind is DriftKind.DIRECT_ASSIGNMENT and drift.repaired is removed


def test_missing_eligibility_is_granted_with_justification_and_ticket() -> None:
    desired = desired_app(grants=(grant(ALICE, ends=timedelta(days=3), justification="audit"),))
    state = converged(desired_app())
    (action,) = plan_app(desired, state, NOW).actions
    assert isinstance(action, GrantEligibility)
    assert (action.principal_id, action.end, action.justification) == (
        ALICE,
        NOW + timedelta(days=3),
        "audit",
    )
    assert action.ticket is not None and action.ticket.number == "CHG0001"
    assert action.start == NOW  # a start in the past is sent as now


def test_eligibility_without_grant_is_removed() -> None:
    state = converged(desired_app(grants=(grant(ALICE),)), None)
    state = _age_eligibilities(state, timedelta(hours=1))
    (action,) = plan_app(desired_app(), state, NOW).actions
    assert isinstance(action, RemoveEligibility) and action.principal_id == ALICE


def _age_eligibilities(state: ObservedApp, age: timedelta) -> ObservedApp:
    seen = role_state(state)
    older = tuple(replace(e, created=NOW - age) for e in seen.eligibilities)
    return with_role(state, replace(seen, eligibilities=older))


def test_expired_grant_removes_the_eligibility() -> None:
    alive = desired_app(grants=(grant(ALICE),))
    state = _age_eligibilities(converged(alive), timedelta(days=1))
    expired = desired_app(grants=(grant(ALICE, ends=NOW - timedelta(minutes=1)),))
    assert kinds(plan_app(expired, state, NOW)) == [ActionKind.REMOVE_ELIGIBILITY]


def test_revoked_grant_with_an_overlapping_grant_shortens_instead_of_removing() -> None:
    long_grant = grant(ALICE, grant_id="g-long", ends=timedelta(days=30))
    short_grant = grant(ALICE, grant_id="g-short", ends=timedelta(days=2))
    state = _age_eligibilities(converged(desired_app(grants=(long_grant, short_grant))), timedelta(days=1))
    revoked = replace(long_grant, revoked_at=NOW - timedelta(minutes=1))
    (action,) = plan_app(desired_app(grants=(revoked, short_grant)), state, NOW).actions
    assert isinstance(action, UpdateEligibility)
    assert action.end == NOW + timedelta(days=2) and action.change is EligibilityChange.UPDATE


def test_new_longer_grant_extends_the_eligibility() -> None:
    state = converged(desired_app(grants=(grant(ALICE, grant_id="g1", ends=timedelta(days=2)),)))
    more = (
        grant(ALICE, grant_id="g1", ends=timedelta(days=2)),
        grant(ALICE, grant_id="g2", ends=timedelta(days=9)),
    )
    (action,) = plan_app(desired_app(grants=more), state, NOW).actions
    assert isinstance(action, UpdateEligibility) and action.change is EligibilityChange.EXTEND
    assert action.end == NOW + timedelta(days=9)


def test_removal_within_five_minutes_of_creation_is_deferred() -> None:
    state = converged(desired_app(grants=(grant(ALICE),)))  # its eligibility was created at NOW
    plan = plan_app(desired_app(), state, NOW + timedelta(minutes=4))
    assert plan.is_empty
    assert any("deferred" in notice for notice in plan.notices)
    assert kinds(plan_app(desired_app(), state, NOW + timedelta(minutes=5))) == [
        ActionKind.REMOVE_ELIGIBILITY
    ]


def test_eligibility_shorter_than_five_minutes_is_never_requested() -> None:
    desired = desired_app(grants=(grant(ALICE, ends=timedelta(minutes=4)),))
    plan = plan_app(desired, converged(desired_app()), NOW)
    assert plan.is_empty and any("under five minutes" in notice for notice in plan.notices)


def test_owner_eligibility_and_direct_owners_are_reported() -> None:
    desired = desired_app(trusted_owners=frozenset({BOB}))
    state = converged(desired)
    seen = role_state(state)
    assert seen.group is not None
    owner = EligibilityInstance(ALICE, seen.group.id, AccessId.OWNER, NOW, None)
    group = replace(seen.group, owner_ids=frozenset({BOB, MALLORY}))
    plan = plan_app(desired, with_role(state, replace(seen, group=group, eligibilities=(owner,))), NOW)
    assert plan.is_empty
    assert sorted(d.subject.rsplit(" ", 1)[1] for d in plan.drift) == [ALICE, MALLORY]


def test_admin_assigned_active_membership_is_reported_as_standing_access() -> None:
    desired = desired_app()
    state = _add_member(converged(desired), BOB)
    seen = role_state(state)
    assert seen.group is not None
    standing = ActiveAssignment(
        BOB, seen.group.id, AccessId.MEMBER, NOW - timedelta(days=1), None, AssignmentType.ASSIGNED
    )
    plan = plan_app(desired, with_role(state, replace(seen, active_assignments=(standing,))), NOW)
    assert plan.is_empty and drift_kinds(plan) == {DriftKind.STANDING_ACCESS}


def test_deleted_app_closes_its_record_once_and_keeps_its_group() -> None:
    desired = desired_app()
    state = replace(converged(desired), service_principal=None)
    plan = plan_app(desired, state, NOW)
    (action,) = plan.actions
    assert isinstance(action, RecordAppDeleted) and len(action.kept_groups) == 1
    recorded = replace(state, record_state=RecordState.DELETED)
    assert plan_app(desired, recorded, NOW).is_empty


def test_out_of_scope_app_is_recorded_once_and_left_protected() -> None:
    desired = replace(desired_app(), in_scope=False)
    state = _add_member(converged(desired_app()), MALLORY)
    assert kinds(plan_app(desired, state, NOW)) == [ActionKind.RECORD_APP_OUT_OF_SCOPE]
    recorded = replace(state, record_state=RecordState.OUT_OF_SCOPE)
    assert plan_app(desired, recorded, NOW).is_empty


def test_immutable_group_settings_are_reported_not_repaired() -> None:
    desired = desired_app(prof=profile("strict"))
    state = converged(desired_app())  # created non role-assignable by the standard profile
    plan = plan_app(desired, state, NOW)
    settings = [d for d in plan.drift if d.kind is DriftKind.GROUP_SETTINGS]
    assert len(settings) == 1 and not settings[0].repaired and "isAssignableToRole" in settings[0].found


def test_foreign_eligibility_rows_for_other_groups_are_ignored() -> None:
    desired = desired_app()
    state = converged(desired)
    seen = role_state(state)
    stray = EligibilityInstance(
        ALICE, GroupId("another-group"), AccessId.MEMBER, NOW - timedelta(days=1), None
    )
    assert plan_app(desired, with_role(state, replace(seen, eligibilities=(stray,))), NOW).is_empty


def test_plan_serialises_to_plain_data() -> None:
    plan = plan_app(desired_app(grants=(grant(ALICE),)), empty_observed(), NOW)
    data = plan.to_dict()
    grant_action = next(a for a in data["actions"] if a["kind"] == "GrantEligibility")
    assert grant_action["principal_id"] == ALICE and grant_action["start"] == NOW.isoformat()
    assert grant_action["ticket"] == {"system": "ServiceNow", "number": "CHG0001"}


def test_no_update_makes_a_schedule_shorter_than_five_minutes_from_its_own_start() -> None:
    """Found by hypothesis: an eligibility that starts ahead of now, shortened to end under five minutes
    after that start, would be a schedule PIM refuses. The planner leaves it for a later run."""
    desired = desired_app(grants=(grant(ALICE, ends=timedelta(minutes=7)),))
    state = converged(desired)
    seen = role_state(state)
    assert seen.group is not None
    later = EligibilityInstance(ALICE, seen.group.id, AccessId.MEMBER, NOW + timedelta(minutes=4), None)
    plan = plan_app(desired, with_role(state, replace(seen, eligibilities=(later,))), NOW)
    assert not [a for a in plan.actions if isinstance(a, UpdateEligibility)]
    assert any("under five minutes" in n for n in plan.notices)


def test_a_future_eligibility_of_unknown_creation_no_open_grant_covers_is_removed_now() -> None:
    # Its start says nothing about when it was made: deferring to it would leave it usable when it starts
    state = converged(desired_app())
    seen = role_state(state)
    ahead = EligibilityInstance(
        ALICE, seen.group.id, AccessId.MEMBER, NOW + timedelta(days=2), NOW + timedelta(days=9)
    )
    plan = plan_app(desired_app(), with_role(state, replace(seen, eligibilities=(ahead,))), NOW)
    assert kinds(plan) == [ActionKind.REMOVE_ELIGIBILITY]
