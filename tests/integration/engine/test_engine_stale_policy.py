"""The onboarding policy update whose answer is lost: its retry meets the now stale policy id (404) and
the ids are read again at once, not waited on as if the 404 were replication delay."""

from __future__ import annotations

import httpx
import pytest

from graphsim.app import GraphSim
from graphsim.testing import asgi_transport
from shared.engine.run import enforce
from shared.storage import StateStore

from .simenv import gateway_for, make_services
from .test_engine_resilience import one_app_sim


class LoseFirstPolicyAnswer(httpx.AsyncBaseTransport):
    """Turns graphsim's lost-response fault on for the first policy PATCH only (applied, answer lost)."""

    def __init__(self, sim: GraphSim) -> None:
        self.sim, self.inner, self.done = sim, asgi_transport(sim), False
        self.policy_404s = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        policy_write = request.method == "PATCH" and "rolemanagementpolicies" in request.url.path.lower()
        lose = policy_write and not self.done
        if lose:
            self.done = True
            self.sim.faults.configure({"lost_response_rate": 1.0})
        try:
            response = await self.inner.handle_async_request(request)
        finally:
            if lose:
                self.sim.faults.configure({"lost_response_rate": 0.0})
        self.policy_404s += int(policy_write and response.status_code == 404)
        return response


@pytest.mark.azurite
async def test_a_lost_onboarding_answer_rereads_policy_ids_at_once(
    state_store: StateStore, azurite: str
) -> None:
    sim = one_app_sim()
    slept: list[float] = []

    async def clock(seconds: float) -> None:  # a fake clock: waits are added up, never slept
        slept.append(seconds)

    transport = LoseFirstPolicyAnswer(sim)
    services = make_services(sim, state_store, azurite, graph=gateway_for(transport, sleep=clock))
    services.sleep = clock
    summary = await enforce(services, "timer")
    assert summary.failed == 0, [r.error for r in summary.results]
    assert transport.done
    assert transport.policy_404s == 1  # the retry met the stale id once; then the new ids were read
    assert sum(slept) < 1.0, slept  # only the 5xx backoff: no replication wait on a stale policy id
    assert (await enforce(services, "timer", full=True)).graph_writes == 0
