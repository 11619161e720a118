"""Who may hold the app's app role assignments: exactly one group per protected role. Pure.

Each protected role is granted by ONE group: the group that guards it (the recorded one; see
engine/observe.py). Any other assignment held by a group of PIM Warden's naming for this app (a second
group made by a retried create, a guard group also assigned to another role, a stale group) is a
second way into the app: it is reported as drift and removed in every mode, exclusive or not. The
extra group itself is left alone (not deleted, members and eligibilities untouched): once it holds
no app role assignment it grants nothing in this app, and deleting a group is the operator's call.
Anyone else's assignment to a guarded role is a direct assignment: removed in exclusive mode, else
reported. Assignments to roles no group guards (application permissions held by other apps, roles the
profile leaves out, every role of an app with nothing protected) are not touched. Protected principals
are never removed.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.domain.actions import Drift, DriftKind, PlanBuilder, RemoveDirectAssignment
from shared.domain.ids import AppRoleId, PrincipalId
from shared.domain.model import AppRoleAssignment, DesiredApp, ObservedApp


def guarding(desired: DesiredApp, observed: ObservedApp) -> set[tuple[PrincipalId, AppRoleId]]:
    """(group, app role) of each protected role's guard group: the assignments that must stay."""
    pairs = set()
    for role in desired.roles:
        seen = observed.roles.get(role.app_role_id)
        if seen is not None and seen.group is not None:
            pairs.add((PrincipalId(seen.group.id), role.app_role_id))
    return pairs


def our_groups(desired: DesiredApp, observed: ObservedApp) -> Mapping[PrincipalId, str]:
    """Groups of PIM Warden's naming for this app, by id -> uniqueName (as far as they were read)."""
    names = {str(role.group.unique_name).lower(): str(role.group.unique_name) for role in desired.roles}
    ours: dict[PrincipalId, str] = {
        principal: name for principal, name in observed.group_names.items() if name.lower() in names
    }
    for seen in observed.roles.values():
        if seen.group is not None:
            ours[PrincipalId(seen.group.id)] = str(seen.group.unique_name or "")
        for extra in seen.duplicate_group_ids:
            ours.setdefault(PrincipalId(extra), "")
    return ours


def plan_app_assignments(desired: DesiredApp, observed: ObservedApp, plan: PlanBuilder) -> None:
    """Remove every assignment that is not the guard group's own; report what is only reported."""
    keep, ours = guarding(desired, observed), our_groups(desired, observed)
    guarded = {role.app_role_id for role in desired.roles}
    _report_duplicates(observed, plan)
    for assignment in sorted(
        observed.app_role_assignments, key=lambda a: (a.principal_id, a.app_role_id, a.id)
    ):
        if (assignment.principal_id, assignment.app_role_id) in keep:
            continue
        subject = f"{assignment.principal_type} {assignment.principal_id} (app role {assignment.app_role_id})"
        if assignment.principal_id in desired.protected_principals:
            plan.notices.append(f"direct assignment of protected principal kept: {subject}")
        elif assignment.principal_id in ours:
            _remove_second_path(desired, assignment, subject, ours[assignment.principal_id], plan)
        elif assignment.app_role_id in guarded:
            _direct(desired, assignment, subject, plan)
        # else: a role no group guards (an application permission, a role the profile leaves out):
        # not a way around PIM Warden, so not its to report or remove.


def _report_duplicates(observed: ObservedApp, plan: PlanBuilder) -> None:
    for seen in observed.roles.values():
        for extra in seen.duplicate_group_ids:
            kept = seen.group.id if seen.group is not None else "none"
            plan.drift.append(
                Drift(
                    DriftKind.DUPLICATE_GROUP,
                    f"group {extra}",
                    f"a second group with the uniqueName of app role {seen.app_role_id}'s group {kept}",
                    "one group per app role (the recorded one); the extra one holds no app role assignment",
                    False,  # the group itself is left to the operator; its assignments are removed below
                )
            )


def _remove_second_path(
    desired: DesiredApp, assignment: AppRoleAssignment, subject: str, name: str, plan: PlanBuilder
) -> None:
    plan.drift.append(
        Drift(
            DriftKind.DUPLICATE_GROUP,
            subject,
            f"a group of PIM Warden's naming ({name or 'a duplicate'}) holds an app role it does not guard",
            "each app role granted by its one guard group only",
            True,
        )
    )
    plan.actions.append(
        RemoveDirectAssignment(
            service_principal_id=desired.service_principal_id,
            assignment=assignment,
            reason="a second group for an app role is a second way into the app: only its guard keeps it",
        )
    )


def _direct(desired: DesiredApp, assignment: AppRoleAssignment, subject: str, plan: PlanBuilder) -> None:
    repaired = desired.exclusive
    plan.drift.append(
        Drift(
            DriftKind.DIRECT_ASSIGNMENT,
            subject,
            "assigned directly, bypassing PIM",
            "access only through the managed group",
            repaired,
        )
    )
    if repaired:
        plan.actions.append(
            RemoveDirectAssignment(
                service_principal_id=desired.service_principal_id,
                assignment=assignment,
                reason="exclusive mode: access goes only through the PIM-guarded group",
            )
        )
