"""Each drift case: made "in the portal" through Graph, detected from change signals on the next
(non-full) tick, repaired (or reported, as the profile says) and recorded as DriftDetected."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from graphsim.app import GraphSim
from graphsim.testing import IN_PROCESS_BASE, asgi_transport
from shared.domain.ids import GroupId
from shared.engine.run import enforce
from shared.engine.services import Services
from tests.tokens import admin_headers

from .simenv import app_by_name, managed_groups, user_by_upn

pytestmark = pytest.mark.azurite
Portal = Callable[[httpx.AsyncClient, GraphSim, Services, dict[str, Any], dict[str, Any]], Awaitable[None]]


@pytest.fixture
async def portal(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    """Raw Graph calls, as an administrator in the portal would make them."""
    async with httpx.AsyncClient(
        transport=asgi_transport(sim), base_url=IN_PROCESS_BASE, headers=admin_headers()
    ) as client:
        yield client


def _group_of(sim: GraphSim, sp: dict[str, Any]) -> dict[str, Any]:
    return next(g for g in managed_groups(sim) if sp["appId"].lower() in g["uniqueName"])


async def policy_rule_changed(c: httpx.AsyncClient, sim: GraphSim, s: Services, sp: dict, g: dict) -> None:
    policies = await s.graph.group_policies(GroupId(g["id"]))
    assert policies.member is not None
    rule = dict(policies.member.rules["Expiration_EndUser_Assignment"])
    rule["maximumDuration"] = "PT8H"
    r = await c.patch(
        f"/policies/roleManagementPolicies/{policies.member.policy_id}/rules/Expiration_EndUser_Assignment",
        json=rule,
    )
    assert r.status_code in (200, 204), r.text


async def group_deleted(c: httpx.AsyncClient, sim: GraphSim, s: Services, sp: dict, g: dict) -> None:
    assert (await c.delete(f"/groups/{g['id']}")).status_code == 204


async def member_added(c: httpx.AsyncClient, sim: GraphSim, s: Services, sp: dict, g: dict) -> None:
    user = user_by_upn(sim, "grace@")
    r = await c.post(
        f"/groups/{g['id']}/members/$ref",
        json={"@odata.id": f"{IN_PROCESS_BASE}/directoryObjects/{user['id']}"},
    )
    assert r.status_code == 204, r.text


async def assignment_removed(c: httpx.AsyncClient, sim: GraphSim, s: Services, sp: dict, g: dict) -> None:
    [assignment] = [
        a
        for a in sim.tenant.app_role_assignments.values()
        if a["resourceId"] == sp["id"] and a["principalId"] == g["id"]
    ]
    r = await c.delete(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo/{assignment['id']}")
    assert r.status_code == 204, r.text


async def not_required(c: httpx.AsyncClient, sim: GraphSim, s: Services, sp: dict, g: dict) -> None:
    r = await c.patch(f"/servicePrincipals/{sp['id']}", json={"appRoleAssignmentRequired": False})
    assert r.status_code == 204, r.text


async def direct_assignment(c: httpx.AsyncClient, sim: GraphSim, s: Services, sp: dict, g: dict) -> None:
    user = user_by_upn(sim, "grace@")
    r = await c.post(
        f"/servicePrincipals/{sp['id']}/appRoleAssignedTo",
        json={
            "principalId": user["id"],
            "resourceId": sp["id"],
            "appRoleId": "00000000-0000-0000-0000-000000000000",
        },
    )
    assert r.status_code == 201, r.text


def _converged(sim: GraphSim, sp: dict[str, Any]) -> None:
    sp = app_by_name(sim, sp["displayName"])
    group = _group_of(sim, sp)
    assert sp["appRoleAssignmentRequired"] is True
    assert any(
        a["principalId"] == group["id"]
        for a in sim.tenant.app_role_assignments.values()
        if a["resourceId"] == sp["id"]
    )
    assert not sim.tenant.members.get(group["id"])
    assert len([g for g in managed_groups(sim) if sp["appId"].lower() in g["uniqueName"]]) == 1


@pytest.mark.parametrize(
    "change", [policy_rule_changed, group_deleted, member_added, assignment_removed, not_required]
)
async def test_drift_is_repaired_on_the_next_tick(
    sim: GraphSim, services: Services, portal: httpx.AsyncClient, change: Portal
) -> None:
    await enforce(services, "timer")
    sp = app_by_name(sim, "FinReport SQL")
    await change(portal, sim, services, sp, _group_of(sim, sp))
    tick = await enforce(services, "timer")
    assert not tick.full and tick.failed == 0, [r.error for r in tick.results]
    assert sp["id"] in {r.service_principal_id for r in tick.results if r.drifted}
    _converged(sim, sp)
    if change is policy_rule_changed:
        policies = await services.graph.group_policies(GroupId(_group_of(sim, sp)["id"]))
        assert policies.member is not None
        assert policies.member.rules["Expiration_EndUser_Assignment"]["maximumDuration"] == "PT30M"
    events = await services.store.audit.query(
        sp["id"], sim.tenant.now.replace(year=2000), sim.tenant.now.replace(year=2100)
    )
    assert any(e.action == "DriftDetected" and e.outcome == "repairing" for e in events)
    record = await services.store.apps.get(sp["id"])
    assert record.last_drift is not None
    assert (await enforce(services, "timer", full=True)).graph_writes == 0


async def test_direct_assignment_is_reported_not_removed_by_default(
    sim: GraphSim, services: Services, portal: httpx.AsyncClient
) -> None:
    await enforce(services, "timer")
    sp = app_by_name(sim, "FinReport SQL")
    await direct_assignment(portal, sim, services, sp, _group_of(sim, sp))
    tick = await enforce(services, "timer")
    assert sp["id"] in {r.service_principal_id for r in tick.results if r.drifted}
    grace = user_by_upn(sim, "grace@")["id"]
    assert any(a["principalId"] == grace for a in sim.tenant.app_role_assignments.values())
    events = await services.store.audit.query(
        sp["id"], sim.tenant.now.replace(year=2000), sim.tenant.now.replace(year=2100)
    )
    assert any(e.action == "DriftDetected" and e.outcome == "reported" and grace in e.target for e in events)


async def test_exclusive_profile_removes_a_direct_assignment_and_records_how_to_undo_it(
    sim: GraphSim, services: Services, portal: httpx.AsyncClient
) -> None:
    import json

    from shared.storage.registrations import Registration

    sp = app_by_name(sim, "FinReport SQL")
    await services.store.registrations.put(
        Registration(sp["id"], "strict", "operator:test", sim.tenant.now, "exclusive mode")
    )
    await enforce(services, "timer", full=True)
    await direct_assignment(portal, sim, services, sp, _group_of(sim, sp))
    grace = user_by_upn(sim, "grace@")["id"]
    tick = await enforce(services, "timer")
    assert tick.failed == 0, [r.error for r in tick.results]
    left = [a for a in sim.tenant.app_role_assignments.values() if a["resourceId"] == sp["id"]]
    assert [a["principalType"] for a in left] == ["Group"]  # only the managed group is still assigned
    events = await services.store.audit.query(
        sp["id"], sim.tenant.now.replace(year=2000), sim.tenant.now.replace(year=2100)
    )
    [removed] = [e for e in events if e.action == "DirectAssignmentRemoved"]
    undo = json.loads(removed.after or "{}")["assignment"]
    assert removed.outcome == "applied"
    assert (undo["principal_id"], undo["app_role_id"], undo["resource_id"]) == (
        grace,
        "00000000-0000-0000-0000-000000000000",
        sp["id"],
    )
