"""Cold onboarding of the demo tenant through the real msgraph-sdk against graphsim, state in Azurite."""

from __future__ import annotations

import json

import pytest

from graphsim.app import GraphSim
from shared.engine.run import enforce
from shared.engine.services import Services
from shared.storage import AppStatus

from .simenv import app_by_name, managed_groups, writes_since

pytestmark = pytest.mark.azurite
HIGH_VALUE = ("FinReport SQL", "Payroll RDP Jump Host", "Trading Desk Portal", "Clinical Records Share")


async def test_cold_onboarding_converges_and_second_run_writes_nothing(
    sim: GraphSim, services: Services
) -> None:
    first = await enforce(services, "timer")
    assert first.failed == 0, [r.error for r in first.results]
    groups = managed_groups(sim)
    assert len(groups) == 4  # one per high-value app (Trading Desk Portal protects its one app role)
    for name in HIGH_VALUE:
        sp = app_by_name(sim, name)
        assert sp["appRoleAssignmentRequired"] is True
        assigned = {
            a["principalId"] for a in sim.tenant.app_role_assignments.values() if a["resourceId"] == sp["id"]
        }
        assert assigned & {g["id"] for g in groups}, name
        record = await services.store.apps.get(sp["id"])
        assert record.status is AppStatus.MANAGED and record.last_error is None
        assert set(record.role_groups.values()) <= {g["id"] for g in groups}
    assert app_by_name(sim, "Warehouse SSH")["appRoleAssignmentRequired"] is False

    mark = len(sim.log)
    second = await enforce(services, "timer", full=True)
    assert second.failed == 0
    assert writes_since(sim, mark) == []
    assert second.graph_writes == 0 and second.drifted == 0


async def test_audit_trail_records_each_change(sim: GraphSim, services: Services) -> None:
    await enforce(services, "timer")
    sp = app_by_name(sim, "FinReport SQL")
    start, end = sim.tenant.now.replace(year=2000), sim.tenant.now.replace(year=2100)
    events = await services.store.audit.query(sp["id"], start, end)
    actions = [e.action for e in events]
    assert actions[0] == "GroupCreated"
    assert {"PolicyRuleCorrected", "GroupAssignedToApp", "AssignmentRequired"} <= set(actions)
    assert all(e.cause == "timer" and e.outcome == "applied" for e in events)
    created = json.loads(events[0].after or "{}")
    assert created["unique_name"].startswith("pimwarden-")


async def test_dry_run_writes_nothing_anywhere(sim: GraphSim, services: Services) -> None:
    mark = len(sim.log)
    summary = await enforce(services, "operator:test", dry_run=True)
    assert writes_since(sim, mark) == []
    assert await services.store.apps.list() == []
    assert await services.store.cursors.find("sp-delta") is None
    planned = {r.service_principal_id for r in summary.results if r.plan and r.plan.actions}
    assert planned == {app_by_name(sim, n)["id"] for n in HIGH_VALUE}
