"""Graph's real timestamps (seven fractional digits) all the way through the engine: a revoke takes
effect, and neither apply nor plan reports a failure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from graphsim import seeding
from graphsim.app import GraphSim
from shared.engine.grants import GrantRequest, close_grants, record_grant
from shared.engine.run import enforce
from shared.engine.services import Services

from .simenv import app_by_name, managed_groups, user_by_upn

pytestmark = pytest.mark.azurite


def _eligible(sim: GraphSim, group_id: str, user_id: str) -> list[dict]:
    return [
        s for s in seeding.dump(sim.tenant).get("eligibilitySchedules", [])
        if (s.get("groupId"), s.get("principalId"), s.get("accessId")) == (group_id, user_id, "member")
    ]


async def test_revoke_takes_effect_with_seven_digit_times(sim: GraphSim, services: Services) -> None:
    # A clock with a fraction, as Graph's own: PIM stamps `...:54.1633900Z`.
    sim.tenant.set_now(sim.tenant.now.replace(microsecond=163390))
    await enforce(services, "timer")
    sp, ada = app_by_name(sim, "FinReport SQL"), user_by_upn(sim, "ada@")
    group = next(g for g in managed_groups(sim) if sp["appId"].lower() in g["uniqueName"])
    now = services.clock.now()
    await record_grant(
        services.store, GrantRequest(sp["id"], ada["id"], now, now + timedelta(days=1), "x"), now
    )
    granted = await enforce(services, "timer")
    assert granted.failed == 0, [r.error for r in granted.results]
    [schedule] = _eligible(sim, group["id"], ada["id"])
    assert schedule["createdDateTime"].endswith(".1633900Z")  # the form the old parser lost the zone of

    sim.tenant.advance(timedelta(minutes=6, microseconds=1))  # past PIM's five minutes
    await close_grants(services.store, sp["id"], ada["id"], "revoked", services.clock.now())
    revoked = await enforce(services, "timer")
    assert revoked.failed == 0, [r.error for r in revoked.results]
    assert not _eligible(sim, group["id"], ada["id"])

    plan = await enforce(services, "plan", dry_run=True)
    assert plan.failed == 0 and plan.count_with_changes() == 0, [r.error for r in plan.results]
    assert (await enforce(services, "timer", full=True)).graph_writes == 0
