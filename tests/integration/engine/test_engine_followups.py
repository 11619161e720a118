"""Engine follow-ups: each run counts its own Graph requests when runs overlap on one event loop, and a
full service-principal round forced by an expired delta token notices a managed app that disappeared."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from graphsim.app import GraphSim
from shared.engine.run import RunSummary, enforce
from shared.engine.services import Services
from shared.graph.gateway import GraphGateway
from shared.storage import AppStatus

from .simenv import app_by_name

pytestmark = pytest.mark.azurite


def sent(services: Services) -> tuple[int, int]:
    assert isinstance(services.graph, GraphGateway)
    return services.graph.request_count()


async def steady(services: Services) -> None:
    """Onboard, then tick until a tick changes nothing (the first ticks still see our own writes)."""
    await enforce(services, "timer")
    for _ in range(3):
        if (await enforce(services, "timer")).count_with_changes() == 0:
            return
    raise AssertionError("the demo tenant did not settle")


async def test_overlapping_runs_each_count_only_their_own_requests(sim: GraphSim, services: Services) -> None:
    await steady(services)
    finreport = app_by_name(sim, "FinReport SQL")["id"]
    tick_alone = await enforce(services, "timer")
    resync_alone = await enforce(services, "resync", only_app=finreport)
    assert tick_alone.graph_requests > 0 and resync_alone.graph_requests > 0

    before = sent(services)
    runs: list[RunSummary] = list(await asyncio.gather(
        enforce(services, "timer"), enforce(services, "resync", only_app=finreport)))
    after = sent(services)
    tick, resync = runs
    # Reads are sent in JSON batches, so how many requests a run needs depends on what it issues at once;
    # what must hold is that each run counts only its own: together, exactly what the gateway sent.
    assert tick.graph_requests > 0 and resync.graph_requests > 0
    assert tick.graph_requests + resync.graph_requests == after[0] - before[0]
    assert tick.graph_writes == resync.graph_writes == 0 == after[1] - before[1]
    assert f"graph_requests={resync.graph_requests} " in resync.line()


async def test_expired_delta_token_round_notices_a_managed_app_that_disappeared(
        sim: GraphSim, services: Services) -> None:
    services = dataclasses.replace(  # keep the full audit away: only the expired token forces a full round
        services, settings=dataclasses.replace(services.settings, full_audit_interval_hours=24 * 30))
    await enforce(services, "timer")
    sp = app_by_name(sim, "FinReport SQL")
    sim.tenant.deleted[sp["id"]] = sim.tenant.service_principals.pop(sp["id"])
    sim.tenant.record("servicePrincipals", sp["id"], "deleted")
    sim.tenant.advance(timedelta(days=8))  # graphsim's delta tokens live 7 days

    summary = await enforce(services, "timer")
    assert summary.full is False  # not a full audit: the delta round alone must notice
    assert sp["id"] in {r.service_principal_id for r in summary.results}
    assert (await services.store.apps.get(sp["id"])).status is AppStatus.DELETED
    others = [a for a in await services.store.apps.list() if a.app_id != sp["id"]]
    assert others and all(a.status is not AppStatus.DELETED for a in others)
