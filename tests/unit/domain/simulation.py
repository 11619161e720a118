"""A pure stand-in for the executor: applies a plan's effects to an observed state.

Used to check convergence (plan, apply, plan again -> nothing to do). It models what Graph would show
after each action, and what the reconciler records afterwards (the group id per role).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shared.domain.actions import (
    Action,
    AssignGroupToApp,
    CorrectPolicyRule,
    EnsureGroup,
    GrantEligibility,
    Plan,
    RecordAppDeleted,
    RecordAppOutOfScope,
    RemoveBypassMember,
    RemoveDirectAssignment,
    RemoveEligibility,
    RequireAssignment,
    UpdateEligibility,
    UpdateGroup,
)
from shared.domain.ids import AppRoleAssignmentId, GroupId, PolicyId, PrincipalId
from shared.domain.model import (
    AccessId,
    AppRoleAssignment,
    DesiredApp,
    EligibilityInstance,
    ObservedApp,
    ObservedGroup,
    ObservedPolicy,
    ObservedRole,
    PrincipalType,
    RecordState,
)


def simulate(desired: DesiredApp, observed: ObservedApp, plan: Plan, now: datetime) -> ObservedApp:
    """The observed state after every action of `plan` succeeded (and the run was recorded)."""
    state = observed
    for action in plan.actions:
        state = _apply(desired, state, action, now)
    roles = {
        role_id: replace(seen, recorded_group_id=seen.group.id if seen.group else seen.recorded_group_id)
        for role_id, seen in state.roles.items()
    }
    return replace(state, roles=roles)


def _role_key(desired: DesiredApp, state: ObservedApp, unique_name: str) -> ObservedRole:
    for role in desired.roles:
        if role.group.unique_name == unique_name:
            return state.roles.get(role.app_role_id) or ObservedRole(role.app_role_id)
    raise AssertionError(f"plan names unknown group {unique_name}")


def _with_role(state: ObservedApp, seen: ObservedRole) -> ObservedApp:
    return replace(state, roles={**state.roles, seen.app_role_id: seen})


def _group(seen: ObservedRole) -> ObservedGroup:
    assert seen.group is not None, "an action needed a group that no earlier action ensured"
    return seen.group


def _apply(desired: DesiredApp, state: ObservedApp, action: Action, now: datetime) -> ObservedApp:
    if isinstance(action, RecordAppDeleted):
        return replace(state, record_state=RecordState.DELETED)
    if isinstance(action, RecordAppOutOfScope):
        return replace(state, record_state=RecordState.OUT_OF_SCOPE)
    if isinstance(action, RequireAssignment):
        assert state.service_principal is not None
        return replace(
            state, service_principal=replace(state.service_principal, app_role_assignment_required=True)
        )
    if isinstance(action, RemoveDirectAssignment):
        kept = tuple(a for a in state.app_role_assignments if a.id != action.assignment.id)
        return replace(state, app_role_assignments=kept)
    seen = _role_key(desired, state, getattr(action, "unique_name"))  # noqa: B009
    if isinstance(action, EnsureGroup):
        group = seen.group or ObservedGroup(
            id=GroupId(f"grp-{action.unique_name}"),
            unique_name=action.unique_name,
            display_name=action.display_name,
            description=action.description,
            mail_nickname=action.mail_nickname,
            is_assignable_to_role=action.is_assignable_to_role,
        )
        return _with_role(state, replace(seen, group=group, awaiting_replication=False))
    if isinstance(action, AssignGroupToApp):
        group = _group(seen)
        assignment = AppRoleAssignment(
            id=AppRoleAssignmentId(f"ara-{group.id}-{action.app_role_id}"),
            principal_id=PrincipalId(group.id),
            principal_type=PrincipalType.GROUP,
            app_role_id=action.app_role_id,
            resource_id=action.service_principal_id,
        )
        return replace(state, app_role_assignments=(*state.app_role_assignments, assignment))
    return _with_role(state, _apply_to_role(seen, action, now))


def _apply_to_role(seen: ObservedRole, action: Action, now: datetime) -> ObservedRole:
    group = _group(seen)
    if isinstance(action, UpdateGroup):
        return replace(
            seen,
            group=replace(
                group,
                display_name=action.display_name or group.display_name,
                description=action.description if action.description is not None else group.description,
            ),
        )
    if isinstance(action, CorrectPolicyRule):
        policy = seen.policy(action.access_id) or ObservedPolicy(
            action.access_id, PolicyId(f"Group_{group.id}_{action.access_id}"), {}
        )
        policy = replace(policy, rules={**policy.rules, action.rule_id: dict(action.body)})
        field = "member_policy" if action.access_id is AccessId.MEMBER else "owner_policy"
        return replace(seen, **{field: policy})
    if isinstance(action, RemoveBypassMember):
        return replace(seen, group=replace(group, member_ids=group.member_ids - {action.principal_id}))
    others = tuple(e for e in seen.eligibilities if not _is_member_eligibility_of(e, group.id, action))
    if isinstance(action, RemoveEligibility):
        return replace(seen, eligibilities=others)
    if isinstance(action, GrantEligibility | UpdateEligibility):
        new = EligibilityInstance(
            action.principal_id, group.id, AccessId.MEMBER, action.start, action.end, now
        )
        return replace(seen, eligibilities=(*others, new))
    raise AssertionError(f"simulate does not know {action.kind}")


def _is_member_eligibility_of(item: EligibilityInstance, group_id: GroupId, action: Action) -> bool:
    principal = getattr(action, "principal_id", None)
    return item.group_id == group_id and item.access_id is AccessId.MEMBER and item.principal_id == principal
