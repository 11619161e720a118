"""Never a second group for one app role: a duplicate of a guard group, whatever made it, is reported
and loses its app role assignment; the recorded group keeps the role."""

from __future__ import annotations

import copy
import uuid

import pytest

from graphsim.app import GraphSim
from shared.engine.run import enforce
from shared.engine.services import Services

from .simenv import app_by_name

pytestmark = pytest.mark.azurite


def _holders(sim: GraphSim, sp_id: str) -> list[tuple[str, str]]:
    return sorted(
        (a["principalId"], a["appRoleId"])
        for a in sim.tenant.app_role_assignments.values() if a["resourceId"] == sp_id
    )


def _duplicate(sim: GraphSim, group_id: str, role_id: str, sp: dict, *, first: bool) -> str:
    """A second group with the guard's uniqueName (as a lost-response retry used to make), assigned to
    the same role; `first` puts it where reads by uniqueName find it first."""
    twin = copy.deepcopy(sim.tenant.groups[group_id]) | {"id": str(uuid.uuid4())}
    groups = sim.tenant.groups
    sim.tenant.groups = {twin["id"]: twin, **groups} if first else {**groups, twin["id"]: twin}
    sim.tenant.members[twin["id"]], sim.tenant.owners[twin["id"]] = {}, {}
    ara = f"ara-{twin['id']}"
    sim.tenant.app_role_assignments[ara] = {
        "id": ara, "deletedDateTime": None, "appRoleId": role_id, "createdDateTime": "2026-01-01T00:00:00Z",
        "principalDisplayName": twin["displayName"], "principalId": twin["id"], "principalType": "Group",
        "resourceDisplayName": sp["displayName"], "resourceId": sp["id"],
    }
    return twin["id"]


@pytest.mark.parametrize("found_first", [True, False])
async def test_a_duplicate_guard_group_loses_its_assignment_and_the_recorded_one_stays(
    sim: GraphSim, services: Services, found_first: bool
) -> None:
    await enforce(services, "timer")
    sp = app_by_name(sim, "FinReport SQL")
    record = await services.store.apps.get(sp["id"])
    [(role_id, guard)] = list(record.role_groups.items())
    twin = _duplicate(sim, guard, role_id, sp, first=found_first)
    assert (twin, role_id) in _holders(sim, sp["id"])

    tick = await enforce(services, "timer", full=True)
    assert tick.failed == 0, [r.error for r in tick.results]
    assert _holders(sim, sp["id"]) == [(guard, role_id)]
    assert twin in sim.tenant.groups  # reported, not deleted
    assert (await services.store.apps.get(sp["id"])).role_groups == {role_id: guard}
    [result] = [r for r in tick.results if r.service_principal_id == sp["id"]]
    assert result.plan is not None
    assert any(d.kind == "duplicate_group" and d.repaired for d in result.plan.drift)
    again = await enforce(services, "timer", full=True)
    assert again.graph_writes == 0 and again.failed == 0
