"""Observe one app: read Graph into the domain's ObservedApp (the planner's "what is").

Groups are found by their deterministic uniqueName, never by display name; our record's group id is
fed in so the planner can tell drift (we made it, it changed) from first onboarding, and the recorded
group is the one kept should a second group ever show the same uniqueName. Policies and PIM
state are read only for groups that exist.

The four PIM lists are for groups onboarded to PIM ("we recommend doing it only for groups that are
onboarded to PIM to reduce the chances of getting throttled": PIM for Groups API overview, "Onboarding
groups to PIM for Groups"). A group PIM Warden creates is observed before it exists, so the run that
creates it reads no list, and onboards it (its first policy write) in that same run; every later look
is at an onboarded group. The one exception, a group left un-onboarded by an interrupted run, still
has its lists read: whoever touched it since with a PIM request has onboarded it, and the docs give
no cheap way to tell (policy ids change on onboarding, but only the change is documented), so a skip
there could hide an eligibility until the daily full audit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from shared.domain.ids import AppRoleId, GroupId, PrincipalId, ServicePrincipalId
from shared.domain.model import (
    AppRoleAssignment,
    DesiredApp,
    ObservedApp,
    ObservedGroup,
    ObservedRole,
    PrincipalType,
    RecordState,
    ServicePrincipal,
)
from shared.engine.ports import GraphPort
from shared.storage import AppStatus, ManagedApp

_RECORD_STATES = {AppStatus.OUT_OF_SCOPE: RecordState.OUT_OF_SCOPE, AppStatus.DELETED: RecordState.DELETED}


def record_state(record: ManagedApp | None) -> RecordState:
    """What our store last recorded about the app, in the planner's words."""
    return RecordState.ACTIVE if record is None else _RECORD_STATES.get(record.status, RecordState.ACTIVE)


def recorded_groups(record: ManagedApp | None) -> Mapping[AppRoleId, GroupId]:
    """The group ids our record holds per app role, once the app's onboarding has finished.

    A group id is recorded the moment the group is created (crash safety), but until a run has
    finished onboarding (policy fingerprint recorded) what is missing is unfinished work, not drift:
    right after a group is created PIM may not list its policies for a while, which cuts a run short.
    """
    if record is None or not record.policy_fingerprint:
        return {}
    return {AppRoleId(role): GroupId(group) for role, group in record.role_groups.items()}


async def observe_app(
    graph: GraphPort,
    sp_id: ServicePrincipalId,
    sp: ServicePrincipal | None,
    desired: DesiredApp | None,
    record: ManagedApp | None,
) -> ObservedApp:
    """Everything the planner needs about one app (`desired` None: the app is deleted or out of scope)."""
    state = record_state(record)
    if sp is None or desired is None or not desired.in_scope:
        return ObservedApp(sp_id, sp, record_state=state)
    recorded = recorded_groups(record)
    # Independent reads go out together (the gateway sends them as one JSON batch).
    reading = asyncio.ensure_future(graph.app_role_assignments(sp_id))
    roles = await asyncio.gather(
        *(_observe_role(graph, role.app_role_id, role.group.unique_name, recorded) for role in desired.roles)
    )
    assignments = await reading
    return ObservedApp(
        sp_id, sp, {role.app_role_id: role for role in roles}, tuple(assignments), record_state=state,
        group_names=await _other_group_names(graph, roles, assignments),
    )


async def _other_group_names(
    graph: GraphPort, roles: Sequence[ObservedRole], assignments: Sequence[AppRoleAssignment]
) -> dict[PrincipalId, str]:
    """uniqueNames of the groups holding an assignment other than the roles' own groups: a group of our
    naming there is a second way into the app, whoever made it."""
    known = {seen.group.id for seen in roles if seen.group is not None}
    others = sorted(
        {GroupId(a.principal_id) for a in assignments if a.principal_type is PrincipalType.GROUP} - known
    )
    if not others:
        return {}
    return {PrincipalId(g): name for g, name in (await graph.group_unique_names(others)).items()}


async def _observe_role(
    graph: GraphPort, role_id: AppRoleId, unique_name: str, recorded: Mapping[AppRoleId, GroupId]
) -> ObservedRole:
    group, duplicates = await _guard_group(graph, unique_name, recorded.get(role_id))
    if group is None:
        return ObservedRole(role_id, recorded_group_id=recorded.get(role_id))
    policies, pim = await asyncio.gather(graph.group_policies(group.id), graph.group_pim_state(group.id))
    return ObservedRole(
        app_role_id=role_id,
        group=group,
        recorded_group_id=recorded.get(role_id),
        duplicate_group_ids=duplicates,
        member_policy=policies.member,
        owner_policy=policies.owner,
        eligibilities=pim.eligibilities,
        active_assignments=pim.active_assignments,
    )


async def _guard_group(
    graph: GraphPort, unique_name: str, recorded: GroupId | None
) -> tuple[ObservedGroup | None, tuple[GroupId, ...]]:
    """The group guarding a role: the one with its uniqueName; when that is not the group we recorded
    while ours still carries the name (a duplicate, whatever made it), ours is kept and the other reported."""
    found = await graph.find_group(unique_name)
    if recorded is None or (found is not None and found.id == recorded):
        return found, ()
    mine = await graph.get_group(recorded)
    if mine is None or (mine.unique_name or "").lower() != unique_name.lower():
        return found, ()
    return mine, (found.id,) if found is not None else ()
