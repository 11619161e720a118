"""Every Graph write that landed has an audit row, even when the process dies right after the write:
intents are stored before each write and a later run resolves the ones a crash left pending."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import httpx
import pytest

from devstack.audit_trail import check_trail
from graphsim.app import GraphSim
from graphsim.testing import asgi_transport
from shared.engine.intents import APPLIED, NOT_APPLIED, RESOLVED_BY
from shared.engine.run import enforce
from shared.storage import AuditEvent, StateStore
from shared.storage.audit import PENDING

from .simenv import app_by_name, gateway_for, make_services
from .test_engine_resilience import Crash, one_app_sim

pytestmark = pytest.mark.azurite
APP = "FinReport SQL"


class CrashAfterWrite(httpx.AsyncBaseTransport):
    """Passes requests through; the process dies right after its Nth write reached graphsim."""

    def __init__(self, inner: httpx.AsyncBaseTransport, n: int) -> None:
        self.inner, self.n, self.writes = inner, n, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" and not request.url.path.endswith("$batch"):
            self.writes += 1
            if self.writes == self.n:
                raise Crash(f"killed after write {self.n}")
        return response


async def _rows(sim: GraphSim, store: StateStore) -> list[AuditEvent]:
    sp = app_by_name(sim, APP)
    now = sim.tenant.now
    return await store.audit.query(sp["id"], now - timedelta(days=40), now + timedelta(days=1))


async def _onboarding_writes(azurite: str) -> int:
    sim, store = one_app_sim(), StateStore.from_connection_string(azurite, f"i{uuid.uuid4().hex[:12]}")
    try:
        run = await enforce(make_services(sim, store, azurite, high_value_attribute=None), "timer")
        return run.graph_writes
    finally:
        await store.delete_tables()
        await store.close()


async def test_a_kill_after_any_write_of_an_onboarding_leaves_no_write_without_its_audit_row(
    azurite: str,
) -> None:
    writes = await _onboarding_writes(azurite)
    assert writes >= 4
    for n in range(1, writes + 1):
        sim, store = one_app_sim(), StateStore.from_connection_string(azurite, f"i{uuid.uuid4().hex[:12]}")
        try:
            crashing = gateway_for(CrashAfterWrite(asgi_transport(sim), n))
            with pytest.raises(Crash):
                await enforce(make_services(sim, store, azurite, graph=crashing, high_value_attribute=None),
                              "timer")
            left_open = any(r.outcome == PENDING for r in await _rows(sim, store))
            clean = make_services(sim, store, azurite, high_value_attribute=None, lease_seconds=0)
            assert (await enforce(clean, "timer", only_app=app_by_name(sim, APP)["id"])).failed == 0
            rows = await _rows(sim, store)
            trail = check_trail(sim.log, sim.tenant.groups.values(), rows)
            assert trail.landed >= n
            assert (trail.missing, trail.unmapped, trail.pending, trail.not_final) == ((), (), 0, 0), n
            assert left_open, n  # the kill left intents pending, the clean run completed them
            killed_write = [r for r in rows if r.resolution == RESOLVED_BY and r.outcome == APPLIED]
            assert len(killed_write) >= 1, n  # the write the kill cut off is accounted as applied
            applied = [(r.action, r.target, json.loads(r.after or "{}").get("access_id"))
                       for r in rows if r.outcome in (APPLIED, "already done")]
            assert len(applied) == len(set(applied)), n  # one row per action that took effect
            assert all(r.outcome in (APPLIED, NOT_APPLIED) for r in rows if r.resolution), n
        finally:
            await store.delete_tables()
            await store.close()
