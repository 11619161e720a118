"""Grants and revocations reach PIM (eligible, never active), expiry by graphsim's clock, an app that
stops being high-value, and a deleted app."""

from __future__ import annotations

from datetime import timedelta

import pytest

from graphsim import seeding
from graphsim.app import GraphSim
from shared.domain.model import TicketInfo
from shared.engine.grants import GrantRequest, close_grants, record_grant
from shared.engine.run import enforce
from shared.engine.services import Services
from shared.storage import AppStatus

from .simenv import app_by_name, managed_groups, user_by_upn

pytestmark = pytest.mark.azurite


def _eligible(sim: GraphSim, group_id: str, user_id: str) -> list[dict]:
    state = seeding.dump(sim.tenant)
    return [
        s
        for s in state.get("eligibilitySchedules", [])
        if s.get("groupId") == group_id
        and s.get("principalId") == user_id
        and s.get("accessId") == "member"
        and s.get("status") in ("Provisioned", None)
    ]


async def _setup(sim: GraphSim, services: Services) -> tuple[dict, dict, dict]:
    await enforce(services, "timer")
    sp = app_by_name(sim, "FinReport SQL")
    group = next(g for g in managed_groups(sim) if sp["appId"].lower() in g["uniqueName"])
    return sp, group, user_by_upn(sim, "ada@")


async def test_grant_makes_eligible_with_ticket_and_never_member(sim: GraphSim, services: Services) -> None:
    sp, group, ada = await _setup(sim, services)
    now = services.clock.now()
    await record_grant(
        services.store,
        GrantRequest(
            sp["id"], ada["id"], now, now + timedelta(days=7), "quarter close", TicketInfo("Jira", "FIN-12")
        ),
        now,
    )
    tick = await enforce(services, "ticket:FIN-12")
    assert tick.failed == 0, [r.error for r in tick.results]
    [schedule] = _eligible(sim, group["id"], ada["id"])
    requests = seeding.dump(sim.tenant)["eligibilityScheduleRequests"]
    assert any(
        r["justification"] == "quarter close"
        and r["ticketInfo"]["ticketNumber"] == "FIN-12"
        and r["ticketInfo"]["ticketSystem"] == "Jira"
        for r in requests
    )
    assert ada["id"] not in sim.tenant.members.get(group["id"], {})
    assert schedule["principalId"] == ada["id"]


async def test_revoke_with_overlapping_grant_keeps_eligibility_then_expiry_removes(
    sim: GraphSim, services: Services
) -> None:
    sp, group, ada = await _setup(sim, services)
    now = services.clock.now()
    for days in (2, 5):
        await record_grant(
            services.store,
            GrantRequest(sp["id"], ada["id"], now, now + timedelta(days=days), f"need {days}"),
            now,
        )
    await enforce(services, "timer")
    sim.tenant.advance(timedelta(minutes=10))
    [short] = [g for g in await services.store.grants.list_open(sp["id"]) if g.justification == "need 2"]
    await close_grants(
        services.store, sp["id"], ada["id"], "done", services.clock.now(), grant_id=short.grant_id
    )
    await enforce(services, "timer")
    assert _eligible(sim, group["id"], ada["id"])  # the 5-day grant still covers her
    sim.tenant.advance(timedelta(days=6))  # graphsim's clock: the eligibility and the grant end
    tick = await enforce(services, "timer")
    assert tick.failed == 0
    assert not _eligible(sim, group["id"], ada["id"])
    assert (await enforce(services, "timer", full=True)).graph_writes == 0


async def test_revoke_removes_eligibility_after_pims_five_minutes(sim: GraphSim, services: Services) -> None:
    sp, group, ada = await _setup(sim, services)
    now = services.clock.now()
    await record_grant(
        services.store, GrantRequest(sp["id"], ada["id"], now, now + timedelta(days=1), "x"), now
    )
    await enforce(services, "timer")
    await close_grants(services.store, sp["id"], ada["id"], "revoked", services.clock.now())
    await enforce(services, "timer")  # within five minutes: deferred, stays due
    assert _eligible(sim, group["id"], ada["id"])
    sim.tenant.advance(timedelta(minutes=6))
    await enforce(services, "timer")  # the due list brings it back without any other signal
    assert not _eligible(sim, group["id"], ada["id"])


async def test_app_no_longer_high_value_keeps_protection(sim: GraphSim, services: Services) -> None:
    sp, group, _ = await _setup(sim, services)
    sim.tenant.service_principals[sp["id"]]["tags"] = ["WindowsAzureActiveDirectoryIntegratedApp"]
    sim.tenant.record("servicePrincipals", sp["id"], "updated")
    await enforce(services, "timer", full=True)
    record = await services.store.apps.get(sp["id"])
    assert record.status is AppStatus.OUT_OF_SCOPE and record.in_scope is False
    assert group["id"] in sim.tenant.groups
    assert app_by_name(sim, "FinReport SQL")["appRoleAssignmentRequired"] is True


async def test_deleted_app_closes_record_and_keeps_group(sim: GraphSim, services: Services) -> None:
    sp, group, _ = await _setup(sim, services)
    sim.tenant.deleted[sp["id"]] = sim.tenant.service_principals.pop(sp["id"])
    sim.tenant.record("servicePrincipals", sp["id"], "deleted")
    await enforce(services, "timer", full=True)
    record = await services.store.apps.get(sp["id"])
    assert record.status is AppStatus.DELETED
    assert group["id"] in sim.tenant.groups
