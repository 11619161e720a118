"""Crash safety, replication delay, throttling storms and two engines at once, against graphsim."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from graphsim.app import GraphSim
from graphsim.testing import asgi_transport
from shared.engine.run import enforce
from shared.engine.services import Services
from shared.storage import StateStore

from .simenv import app_by_name, demo_sim, gateway_for, make_services, managed_groups, writes_since

pytestmark = pytest.mark.azurite


class Crash(BaseException):
    """The process dies (not an Exception: nothing in the engine may swallow it)."""


class CrashAfter(httpx.AsyncBaseTransport):
    """Passes requests through; the Nth one reaches graphsim but its answer is lost in the crash."""

    def __init__(self, inner: httpx.AsyncBaseTransport, n: int) -> None:
        self.inner, self.n, self.sent = inner, n, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.sent += 1
        if self.sent >= self.n:
            raise Crash(f"crash after request {self.sent}")
        return response


def one_app_sim() -> GraphSim:
    """The demo tenant with only FinReport SQL high-value (keeps the crash sweep short)."""
    sim = demo_sim()
    for sp in sim.tenant.service_principals.values():
        if sp["displayName"] != "FinReport SQL":
            sp["tags"] = [t for t in sp["tags"] if t != "HighValue"]
    return sim


async def _store(azurite: str) -> StateStore:
    return StateStore.from_connection_string(azurite, f"c{uuid.uuid4().hex[:12]}")


def _check_converged(sim: GraphSim) -> None:
    sp = app_by_name(sim, "FinReport SQL")
    groups = managed_groups(sim)
    assert len(groups) == 1
    assert sp["appRoleAssignmentRequired"] is True
    assert [
        a["principalId"] for a in sim.tenant.app_role_assignments.values() if a["resourceId"] == sp["id"]
    ] == [groups[0]["id"]]


async def test_crash_between_any_two_requests_then_clean_run_converges(azurite: str) -> None:
    sim = one_app_sim()
    store = await _store(azurite)
    try:
        total = await enforce(make_services(sim, store, azurite, high_value_attribute=None), "timer")
        requests = total.graph_requests
    finally:
        await store.delete_tables()
        await store.close()
    assert requests > 5
    for n in range(1, requests):
        sim = one_app_sim()
        store = await _store(azurite)
        try:
            crashing = gateway_for(CrashAfter(asgi_transport(sim), n))
            with pytest.raises(Crash):
                await enforce(
                    make_services(
                        sim, store, azurite, graph=crashing, holder="crashed", high_value_attribute=None
                    ),
                    "timer",
                )
            sim.tenant.advance(timedelta(minutes=6))  # the dead engine's lease expires
            clean = make_services(sim, store, azurite, holder="restarted", high_value_attribute=None)
            summary = await enforce(clean, "timer")
            assert summary.failed == 0, (n, [r.error for r in summary.results])
            _check_converged(sim)
            record = await store.apps.get(app_by_name(sim, "FinReport SQL")["id"])
            assert list(record.role_groups.values()) == [managed_groups(sim)[0]["id"]], n
            mark = len(sim.log)
            await enforce(clean, "timer", full=True)
            assert writes_since(sim, mark) == [], n
        finally:
            await store.delete_tables()
            await store.close()


async def test_replication_delay_after_group_create(
    sim: GraphSim,
    state_store: StateStore,
    azurite: str,
) -> None:
    sim.tenant.replication_delay_s = 0.3
    slept: list[float] = []

    async def real_sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(seconds)

    services = make_services(
        sim, state_store, azurite, graph=gateway_for(asgi_transport(sim), sleep=real_sleep)
    )
    services.sleep = real_sleep
    summary = await enforce(services, "timer")
    assert summary.failed == 0, [r.error for r in summary.results]
    assert len(managed_groups(sim)) == 4
    assert slept  # it did have to wait for the new groups to become visible


async def test_throttling_storm_still_converges(sim: GraphSim, state_store: StateStore, azurite: str) -> None:
    # 429s from a small read budget (Retry-After honoured for real), plus 503/504s and writes whose
    # answer is lost after they were applied (the gateway retries them; they are keyed or idempotent).
    sim.faults.configure(
        {
            "error_rate": 0.1,
            "lost_response_rate": 0.1,
            "seed": 3,
            "throttle": {"enabled": True, "read_units_per_10s": 60, "writes_per_150s": 1000},
        }
    )
    services = make_services(
        sim, state_store, azurite, graph=gateway_for(asgi_transport(sim), sleep=asyncio.sleep)
    )
    for _ in range(3):
        await enforce(services, "timer")  # no exception escapes: failures are per app, retried later
    sim.faults.configure({"error_rate": 0.0, "lost_response_rate": 0.0, "throttle": False})
    assert any(status == 429 for (_, _, status) in sim.stats)
    settle = await enforce(services, "timer", full=True)
    assert settle.failed == 0, [r.error for r in settle.results]
    final = await enforce(services, "timer", full=True)
    assert final.graph_writes == 0 and final.failed == 0
    assert len(managed_groups(sim)) == 4


async def test_two_engines_at_once_make_no_duplicates(
    sim: GraphSim, state_store: StateStore, azurite: str
) -> None:
    first = make_services(sim, state_store, azurite, holder="engine-a")
    second = make_services(sim, state_store, azurite, holder="engine-b")
    a, b = await asyncio.gather(enforce(first, "timer"), enforce(second, "timer"))
    assert a.failed == 0 and b.failed == 0
    assert len(managed_groups(sim)) == 4
    names: list[Any] = [g["uniqueName"] for g in managed_groups(sim)]
    assert len(set(names)) == len(names)
    final = await enforce(first, "timer", full=True)
    assert final.graph_writes == 0 and final.failed == 0, [r.error for r in final.results]


async def test_one_worker_reconciling_an_app_twice_at_once_runs_it_once(
    services: Services, sim: GraphSim
) -> None:
    """A queue message and an inline resync in the same process share a worker id: the lease must
    still let only one of them act on the app."""
    from shared.engine.reconcile import Outcome, reconcile_app

    sp_id = app_by_name(sim, "FinReport SQL")["id"]
    a, b = await asyncio.gather(
        reconcile_app(services, sp_id, "operator:a"), reconcile_app(services, sp_id, "operator:b")
    )
    assert sorted([a.outcome, b.outcome]) == sorted([Outcome.CHANGED, Outcome.SKIPPED])
    finreport = [
        g
        for g in managed_groups(sim)
        if g["uniqueName"].startswith(f"pimwarden-{app_by_name(sim, 'FinReport SQL')['appId']}")
    ]
    assert len(finreport) == 1


async def test_a_long_reconcile_renews_its_lease(
    services: Services, sim: GraphSim, state_store: StateStore
) -> None:
    """The lease is renewed between actions, so a reconcile longer than the lease keeps the app."""
    from shared.engine.reconcile import LeaseKeeper

    sp_id = app_by_name(sim, "FinReport SQL")["id"]
    keeper = LeaseKeeper(services, sp_id, "long-runner")
    assert await keeper.acquire()
    first = await state_store.leases.holder(sp_id, services.clock.now())
    sim.tenant.advance(timedelta(seconds=services.config.lease_seconds * 0.9))
    await keeper.keep()
    later = services.clock.now() + timedelta(seconds=services.config.lease_seconds * 0.5)
    assert first == "long-runner" and await state_store.leases.holder(sp_id, later) == "long-runner"
    other = await state_store.leases.acquire(sp_id, "intruder", timedelta(seconds=60), later)
    assert other is None
    await keeper.release()
