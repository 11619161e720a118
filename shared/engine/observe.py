"""Observe one app: read Graph into the domain's ObservedApp (the planner's "what is").

Groups are found by their deterministic uniqueName, never by display name; our record's group id is
fed in so the planner can tell drift (we made it, it changed) from first onboarding. Policies and PIM
state are read only for groups that exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from shared.domain.ids import AppRoleId, GroupId, ServicePrincipalId
from shared.domain.model import DesiredApp, ObservedApp, ObservedRole, RecordState, ServicePrincipal
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
        sp_id, sp, {role.app_role_id: role for role in roles}, tuple(assignments), record_state=state
    )


async def _observe_role(
    graph: GraphPort, role_id: AppRoleId, unique_name: str, recorded: Mapping[AppRoleId, GroupId]
) -> ObservedRole:
    group = await graph.find_group(unique_name)
    if group is None:
        return ObservedRole(role_id, recorded_group_id=recorded.get(role_id))
    policies, pim = await asyncio.gather(graph.group_policies(group.id), graph.group_pim_state(group.id))
    return ObservedRole(
        app_role_id=role_id,
        group=group,
        recorded_group_id=recorded.get(role_id),
        member_policy=policies.member,
        owner_policy=policies.owner,
        eligibilities=pim.eligibilities,
        active_assignments=pim.active_assignments,
    )
