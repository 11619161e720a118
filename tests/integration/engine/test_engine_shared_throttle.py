"""Two engine instances (two Services, two gateways, two stores over the same tables) against one graphsim:
a 429 instance A meets pauses instance B's writes through the shared throttle pause."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from graphsim.app import GraphSim
from shared.engine.run import enforce
from shared.storage import StateStore
from tests.integration.pause_env import (
    FakeTime,
    Sent,
    consecutive_429,
    drain_write_budget,
    gateway,
    graph_requests,
)

from .simenv import app_by_name, make_services, managed_groups

pytestmark = pytest.mark.azurite
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
async def other_store(azurite: str, state_store: StateStore) -> AsyncIterator[StateStore]:
    store = StateStore.from_connection_string(azurite, state_store.prefix)
    yield store
    await store.close()


async def test_instance_a_429_pauses_instance_b(
    sim: GraphSim, state_store: StateStore, other_store: StateStore, azurite: str
) -> None:
    time, sent = FakeTime(sim), list[Sent]()
    await drain_write_budget(sim, 15)  # then 0.1 write per second: Retry-After up to 10 s
    graph_a = gateway(sim, time, "A", sent, state_store.throttle, max_attempts=1)  # A stops at its 429
    graph_b = gateway(sim, time, "B", sent, other_store.throttle)
    # One worker each, so B's own 429s are retried one at a time (the point here is A's pause).
    a = make_services(sim, state_store, azurite, graph=graph_a, holder="instance-a", concurrency=1)
    b = make_services(sim, other_store, azurite, graph=graph_b, holder="instance-b", concurrency=1)

    first = await enforce(a, "webhook", only_app=app_by_name(sim, "FinReport SQL")["id"])
    assert first.failed == 1 and graph_a.runner.stats.throttled == 1
    paused_until = await other_store.throttle.paused_until("write")
    assert paused_until is not None and paused_until > time.now()

    mark = len(sim.log)
    second = await enforce(b, "timer")
    assert second.failed == 0 and second.seen == 4, [r.error for r in second.results]
    b_writes = [s for s in sent if s.instance == "B" and s.method in WRITES and s.path != "/v1.0/$batch"]
    assert b_writes and b_writes[0].at >= paused_until  # B's first write waited for A's pause
    log = graph_requests(sim, mark)
    assert next(e for e in log if e["method"] in WRITES)["status"] != 429  # ... and was not throttled
    assert consecutive_429(graph_requests(sim)) == 0
    assert len(managed_groups(sim)) == 4



async def test_the_functions_host_and_cli_gateway_shares_its_pauses(azurite: str) -> None:
    from shared import runtime
    from shared.engine.services import build_services
    from shared.graph.gateway import GraphGateway

    env = {"PimWardenStorage": azurite, "PIMWARDEN_TABLE_PREFIX": f"t{uuid.uuid4().hex[:16]}"}
    runtime.reset()
    try:
        services = build_services(env)  # what the timer, the queue trigger and the CLI build
        assert isinstance(services.graph, GraphGateway)
        await services.graph.runner.share_pause(5.0, write=True)  # what a 429 on a write does
        until = await services.store.throttle.paused_until("write")
        assert until is not None and until > services.clock.now()
        assert await services.store.throttle.paused_until("read") is None
        await services.store.delete_tables()
    finally:
        await runtime.aclose()
