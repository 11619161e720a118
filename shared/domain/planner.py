"""The planner: (desired state, observed state, now) -> an ordered plan of actions, drift and notices.

Pure, deterministic and total: odd observed states are drift (data), never exceptions. The order is
group -> policy rules -> app assignment -> eligibility -> removals, so each action can rely on the ones
before it. Policy rules are corrected even before the group is PIM-managed, because the first rule
update is what onboards it. Nobody is ever made an active member (eligibility only), and protected
principals (break-glass accounts) are never removed from anything. A converged app yields no actions.
"""

from __future__ import annotations

from datetime import datetime

from shared.domain.actions import (
    AssignGroupToApp,
    CorrectPolicyRule,
    Drift,
    DriftKind,
    EnsureGroup,
    Plan,
    PlanBuilder,
    RecordAppDeleted,
    RecordAppOutOfScope,
    RequireAssignment,
    UpdateGroup,
)
from shared.domain.app_assignments import plan_app_assignments
from shared.domain.eligibility_planning import plan_eligibilities, plan_members
from shared.domain.ids import PrincipalId
from shared.domain.model import AccessId, DesiredApp, DesiredRole, ObservedApp, ObservedRole, RecordState
from shared.domain.rules import diff_rules, summarize_rule


def plan_app(desired: DesiredApp, observed: ObservedApp, now: datetime) -> Plan:
    """Plan everything that makes `observed` match `desired` at `now`."""
    plan = PlanBuilder(desired.service_principal_id, notices=list(desired.notes))
    if observed.service_principal is None:
        _plan_deleted(observed, plan)
    elif not desired.in_scope:
        _plan_out_of_scope(observed, plan)
    else:
        roles = [
            (role, observed.roles.get(role.app_role_id) or ObservedRole(role.app_role_id))
            for role in desired.roles
        ]
        for role, seen in roles:
            _plan_group(desired, role, seen, plan)
            _plan_policies(desired, role, seen, plan)
            _plan_app_assignment(desired, role, seen, observed, plan)
            plan_eligibilities(desired, role, seen, now, plan)
            plan_members(desired, role, seen, now, plan)
        _plan_assignment_required(desired, observed, plan)
        plan_app_assignments(desired, observed, plan)
    return plan.finish()


def _plan_deleted(observed: ObservedApp, plan: PlanBuilder) -> None:
    kept = tuple(
        sorted(
            seen.group.unique_name
            for seen in observed.roles.values()
            if seen.group is not None and seen.group.unique_name is not None
        )
    )
    plan.notices += [f"service principal deleted; group {name} kept" for name in kept]
    if observed.record_state is not RecordState.DELETED:
        plan.actions.append(
            RecordAppDeleted(
                service_principal_id=observed.service_principal_id,
                kept_groups=kept,
                reason="the service principal no longer exists: close its record, keep its groups",
            )
        )


def _plan_out_of_scope(observed: ObservedApp, plan: PlanBuilder) -> None:
    plan.notices.append(
        "app is no longer high-value: its protection is left in place (cleanup is an operator choice)"
    )
    if observed.record_state is not RecordState.OUT_OF_SCOPE:
        plan.actions.append(
            RecordAppOutOfScope(
                service_principal_id=observed.service_principal_id,
                reason="the app no longer matches any high-value selector",
            )
        )


def _plan_group(desired: DesiredApp, role: DesiredRole, seen: ObservedRole, plan: PlanBuilder) -> None:
    identity, group = role.group, seen.group
    if group is None:
        if seen.awaiting_replication:
            plan.notices.append(
                f"group {identity.unique_name} was created and is not visible yet (replication)"
            )
        if seen.recorded_group_id is not None:
            plan.drift.append(
                Drift(
                    DriftKind.GROUP_MISSING,
                    identity.unique_name,
                    f"group {seen.recorded_group_id} not found",
                    "group re-created",
                    True,
                )
            )
        plan.actions.append(
            EnsureGroup(
                unique_name=identity.unique_name,
                display_name=identity.display_name,
                description=identity.description,
                mail_nickname=identity.mail_nickname,
                is_assignable_to_role=desired.profile.protected_group,
                reason=f"no group guards app role {role.role_name}: create it (or adopt it by uniqueName)",
            )
        )
        return
    _report_group_settings(desired, role, seen, plan)
    new_name = identity.display_name if group.display_name != identity.display_name else None
    new_description = identity.description if (group.description or "") != identity.description else None
    if new_name is None and new_description is None:
        return
    if seen.recorded_group_id is not None:
        plan.drift.append(
            Drift(
                DriftKind.GROUP_CHANGED,
                identity.unique_name,
                f"{group.display_name!r} / {group.description!r}",
                f"{identity.display_name!r} / {identity.description!r}",
                True,
            )
        )
    plan.actions.append(
        UpdateGroup(
            unique_name=identity.unique_name,
            group_id=group.id,
            display_name=new_name,
            description=new_description,
            reason="group name or description differs from the template",
        )
    )


def _report_group_settings(
    desired: DesiredApp, role: DesiredRole, seen: ObservedRole, plan: PlanBuilder
) -> None:
    group = seen.group
    assert group is not None
    problems = []
    if not group.security_enabled or group.mail_enabled:
        problems.append("not a plain security group")
    if any(kind.lower() == "dynamicmembership" for kind in group.group_types):
        problems.append("dynamic membership (PIM cannot manage it)")
    if group.is_assignable_to_role != desired.profile.protected_group:
        problems.append(
            f"isAssignableToRole={group.is_assignable_to_role} (immutable; profile wants "
            f"{desired.profile.protected_group})"
        )
    if problems:
        plan.drift.append(
            Drift(
                DriftKind.GROUP_SETTINGS,
                role.group.unique_name,
                "; ".join(problems),
                "an assigned-membership security group as the profile says",
                False,
            )
        )


def _plan_policies(desired: DesiredApp, role: DesiredRole, seen: ObservedRole, plan: PlanBuilder) -> None:
    for access in AccessId:
        policy = seen.policy(access) if seen.group is not None else None
        observed_rules = policy.rules if policy is not None else {}
        for difference in diff_rules(desired.rules_for(access), observed_rules):
            if policy is None:
                reason = f"{access} policy not known yet: set {difference.rule_id} (this onboards the group)"
            else:
                reason = (
                    f"{access} policy rule {difference.rule_id} differs from profile {desired.profile.name!r}"
                )
                if seen.recorded_group_id is not None:
                    plan.drift.append(
                        Drift(
                            DriftKind.POLICY_RULE_CHANGED,
                            f"{role.group.unique_name}/{access}/{difference.rule_id}",
                            summarize_rule(difference.observed),
                            summarize_rule(difference.desired),
                            True,
                        )
                    )
            plan.actions.append(
                CorrectPolicyRule(
                    unique_name=role.group.unique_name,
                    access_id=access,
                    rule_id=difference.rule_id,
                    body=difference.desired,
                    policy_id=policy.policy_id if policy else None,
                    reason=reason,
                )
            )


def _plan_app_assignment(
    desired: DesiredApp, role: DesiredRole, seen: ObservedRole, observed: ObservedApp, plan: PlanBuilder
) -> None:
    group = seen.group
    if group is not None and any(
        a.principal_id == PrincipalId(group.id) and a.app_role_id == role.app_role_id
        for a in observed.app_role_assignments
    ):
        return
    if group is not None and seen.recorded_group_id is not None:
        plan.drift.append(
            Drift(
                DriftKind.ASSIGNMENT_MISSING,
                role.group.unique_name,
                f"group not assigned to app role {role.role_name}",
                "assigned",
                True,
            )
        )
    plan.actions.append(
        AssignGroupToApp(
            unique_name=role.group.unique_name,
            service_principal_id=desired.service_principal_id,
            app_role_id=role.app_role_id,
            reason=f"the group must grant app role {role.role_name}",
        )
    )


def _plan_assignment_required(desired: DesiredApp, observed: ObservedApp, plan: PlanBuilder) -> None:
    sp = observed.service_principal
    if sp is None or sp.app_role_assignment_required or not desired.roles:
        return
    if any(seen.recorded_group_id is not None for seen in observed.roles.values()):
        plan.drift.append(
            Drift(
                DriftKind.ASSIGNMENT_NOT_REQUIRED,
                sp.display_name,
                "appRoleAssignmentRequired=false",
                "appRoleAssignmentRequired=true",
                True,
            )
        )
    plan.actions.append(
        RequireAssignment(
            service_principal_id=desired.service_principal_id,
            reason="without assignment required, anyone in the tenant can sign in to the app",
        )
    )
