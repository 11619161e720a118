"""Planning who may become a member: PIM member eligibilities, and members who got in around PIM.

PIM rules respected here: a schedule cannot be removed in its first five minutes (the removal is
deferred and reported), and no eligibility shorter than five minutes is requested. Ends within a
minute of each other are equal (PIM may round the times it stores).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.domain.actions import (
    Drift,
    DriftKind,
    EligibilityChange,
    GrantEligibility,
    PlanBuilder,
    RemoveBypassMember,
    RemoveEligibility,
    UpdateEligibility,
)
from shared.domain.ids import PrincipalId
from shared.domain.model import (
    AccessId,
    AssignmentType,
    DesiredApp,
    DesiredEligibility,
    DesiredRole,
    EligibilityInstance,
    ObservedRole,
)

MINIMUM_SCHEDULE = timedelta(minutes=5)
END_TOLERANCE = timedelta(minutes=1)


def plan_eligibilities(
    desired: DesiredApp, role: DesiredRole, seen: ObservedRole, now: datetime, plan: PlanBuilder
) -> None:
    """Grant, update or remove member eligibilities so that PIM matches the open grants."""
    current = _current_eligibilities(seen, now)
    for wanted in role.eligibilities:
        existing = current.pop(wanted.principal_id, None)
        if existing is None:
            _grant(role, wanted, now, plan)
        else:
            _update(role, wanted, existing, now, plan)
    # Whoever holds it (a protected principal too): an eligibility no open grant covers is removed.
    # Protected principals keep standing access (membership, direct assignment), never an orphan
    # eligibility that no ticket could ever release.
    for _, existing in sorted(current.items()):
        _remove(role, existing, "no open grant covers this principal", now, plan)


def _current_eligibilities(seen: ObservedRole, now: datetime) -> dict[PrincipalId, EligibilityInstance]:
    if seen.group is None:
        return {}
    found: dict[PrincipalId, EligibilityInstance] = {}
    # Ties broken on start and creation, so the plan does not depend on the order Graph lists them in.
    def order(e: EligibilityInstance) -> tuple[bool, datetime, datetime, bool, datetime]:
        return (e.end is None, e.end or e.start, e.start, e.created is not None, e.created or e.start)

    for item in sorted(seen.eligibilities, key=order):
        if (
            item.access_id is AccessId.MEMBER
            and item.group_id == seen.group.id
            and _lasts_past(item.end, now)
        ):
            found[item.principal_id] = item  # the latest-ending instance wins
    return found


def _grant(role: DesiredRole, wanted: DesiredEligibility, now: datetime, plan: PlanBuilder) -> None:
    start = max(wanted.start, now)
    if wanted.end is not None and wanted.end - start < MINIMUM_SCHEDULE:
        plan.notices.append(
            f"eligibility for {wanted.principal_id} not requested: it would last under five minutes"
        )
        return
    plan.actions.append(
        GrantEligibility(
            unique_name=role.group.unique_name,
            principal_id=wanted.principal_id,
            start=start,
            end=wanted.end,
            justification=wanted.justification,
            ticket=wanted.ticket,
            reason=f"open grant(s) {', '.join(wanted.grant_ids)} make {wanted.principal_id} eligible until "
            f"{_when(wanted.end)}",
        )
    )


def _update(
    role: DesiredRole,
    wanted: DesiredEligibility,
    existing: EligibilityInstance,
    now: datetime,
    plan: PlanBuilder,
) -> None:
    if _same_end(wanted.end, existing.end):
        return
    # The updated schedule runs from its own start (which may still be ahead) to the new end.
    if wanted.end is not None and wanted.end - max(existing.start, now) < MINIMUM_SCHEDULE:
        plan.notices.append(
            f"{wanted.principal_id}'s eligibility would last under five minutes after the change (PIM's "
            "minimum): left as it is for a later run"
        )
        return
    lengthens = wanted.end is None or (existing.end is not None and wanted.end > existing.end)
    plan.actions.append(
        UpdateEligibility(
            unique_name=role.group.unique_name,
            group_id=existing.group_id,
            principal_id=wanted.principal_id,
            start=existing.start,
            end=wanted.end,
            previous_end=existing.end,
            change=EligibilityChange.EXTEND if lengthens else EligibilityChange.UPDATE,
            justification=wanted.justification,
            ticket=wanted.ticket,
            reason=f"eligibility ends {_when(existing.end)}, open grant(s) say {_when(wanted.end)}",
        )
    )


def _remove(
    role: DesiredRole, existing: EligibilityInstance, why: str, now: datetime, plan: PlanBuilder
) -> None:
    # Unknown creation: the start stands in, except a start still ahead, which says nothing about when
    # the schedule was made (deferring to it would leave a closed grant's eligibility usable at start).
    created = existing.created or (existing.start if existing.start <= now else now - MINIMUM_SCHEDULE)
    if now - created < MINIMUM_SCHEDULE:
        plan.notices.append(
            f"removal of {existing.principal_id}'s eligibility deferred: PIM refuses to remove a "
            f"schedule within five minutes of its creation ({why})"
        )
        return
    plan.actions.append(
        RemoveEligibility(
            unique_name=role.group.unique_name,
            group_id=existing.group_id,
            principal_id=existing.principal_id,
            reason=f"remove {existing.principal_id}'s eligibility: {why}",
        )
    )


def plan_members(
    desired: DesiredApp, role: DesiredRole, seen: ObservedRole, now: datetime, plan: PlanBuilder
) -> None:
    """Report (and, if the profile says so, remove) members and owners who got in around PIM."""
    group = seen.group
    if group is None:
        return
    # An assignment that has not ended covers its member, even one that started after `now` was taken
    # (an activation made while we were observing): never remove someone who just activated.
    mine = [a for a in seen.active_assignments if a.group_id == group.id and (a.end is None or a.end > now)]
    active = {a.principal_id for a in mine if a.access_id is AccessId.MEMBER}
    for principal in sorted(group.member_ids - active):
        subject = f"{role.group.unique_name}: member {principal}"
        if principal in desired.protected_principals:
            plan.notices.append(f"protected principal kept as a member without PIM: {subject}")
            continue
        repaired = desired.remove_bypass_members
        plan.drift.append(
            Drift(
                DriftKind.BYPASS_MEMBER,
                subject,
                "member without an active PIM assignment",
                "members only through PIM activation",
                repaired,
            )
        )
        if repaired:
            plan.actions.append(
                RemoveBypassMember(
                    unique_name=role.group.unique_name,
                    group_id=group.id,
                    principal_id=principal,
                    reason="added around PIM (no active PIM assignment)",
                )
            )
    for standing in sorted(
        a.principal_id
        for a in mine
        if a.assignment_type is AssignmentType.ASSIGNED and a.access_id is AccessId.MEMBER
    ):
        plan.drift.append(
            Drift(
                DriftKind.STANDING_ACCESS,
                f"{role.group.unique_name}: member {standing}",
                "active assignment made by an administrator",
                "eligible only",
                False,
            )
        )
    _report_owners(desired, role, seen, plan)


def _report_owners(desired: DesiredApp, role: DesiredRole, seen: ObservedRole, plan: PlanBuilder) -> None:
    assert seen.group is not None
    allowed = desired.trusted_owners | desired.protected_principals
    owners = set(seen.group.owner_ids) | {
        e.principal_id
        for e in seen.eligibilities
        if e.access_id is AccessId.OWNER and e.group_id == seen.group.id
    }
    for principal in sorted(owners - allowed):
        plan.drift.append(
            Drift(
                DriftKind.UNMANAGED_OWNER,
                f"{role.group.unique_name}: owner {principal}",
                "owner (or eligible owner) of a managed group can add members",
                "no owners",
                False,
            )
        )


def _lasts_past(end: datetime | None, now: datetime) -> bool:
    return end is None or end > now


def _same_end(left: datetime | None, right: datetime | None) -> bool:
    if left is None or right is None:
        return left is right
    return abs(left - right) <= END_TOLERANCE


def _when(value: datetime | None) -> str:
    return "never (permanent)" if value is None else value.isoformat()
