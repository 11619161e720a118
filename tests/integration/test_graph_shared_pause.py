"""The Graph throttle pause shared across instances: several CallRunners (one per "instance", each with
its own StateStore over the same Azurite tables) and graphsim's Graph-like throttle, on one fake time."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from graphsim.app import GraphSim, build_app
from graphsim.tenants import load
from shared.domain.ids import ServicePrincipalId
from shared.graph.errors import ThrottledError
from shared.graph.gateway import GraphGateway
from shared.storage import StateStore
from tests.integration.pause_env import (
    FakeTime,
    Sent,
    consecutive_429,
    drain_write_budget,
    gateway,
    graph_requests,
)

pytestmark = pytest.mark.azurite



@pytest.fixture
def sim() -> GraphSim:
    return build_app(load("demo"))


@pytest.fixture
def time(sim: GraphSim) -> FakeTime:
    return FakeTime(sim)


@pytest.fixture
async def other_store(azurite: str, state_store: StateStore) -> AsyncIterator[StateStore]:
    """A second instance's own store: its own client, the same account and tables."""
    store = StateStore.from_connection_string(azurite, state_store.prefix)
    yield store
    await store.close()


def _apps(sim: GraphSim) -> list[ServicePrincipalId]:
    return [ServicePrincipalId(sp["id"]) for sp in sim.tenant.service_principals.values()]


async def test_a_429_seen_by_one_instance_pauses_the_other(
    sim: GraphSim, time: FakeTime, state_store: StateStore, other_store: StateStore
) -> None:
    sent: list[Sent] = []
    a = gateway(sim, time, "A", sent, state_store.throttle, max_attempts=1)  # A gives up after its 429
    b = gateway(sim, time, "B", sent, other_store.throttle)
    await drain_write_budget(sim, 15)  # refills 0.1 write per second: Retry-After up to 10 s
    mark, first, second = len(sim.log), *_apps(sim)[:2]

    with pytest.raises(ThrottledError) as throttled:
        await a.require_assignment(first)
    paused_until = await other_store.throttle.paused_until("write")
    assert paused_until == time.now() + timedelta(seconds=throttled.value.retry_after_s)

    await b.require_assignment(second)

    log = graph_requests(sim, mark)
    assert [(e["method"], e["status"]) for e in log] == [("PATCH", 429), ("PATCH", 204)]
    assert consecutive_429(log) == 0 and b.runner.stats.throttled == 0
    b_sent = [s for s in sent if s.instance == "B"]
    assert len(b_sent) == 1 and b_sent[0].at >= paused_until  # B waited for A's pause, then went once


async def test_without_the_shared_pause_the_other_instance_spends_its_own_429(
    sim: GraphSim, time: FakeTime, state_store: StateStore
) -> None:
    sent: list[Sent] = []
    a = gateway(sim, time, "A", sent, None, max_attempts=1)
    b = gateway(sim, time, "B", sent, None)
    await drain_write_budget(sim, 15)
    mark, first, second = len(sim.log), *_apps(sim)[:2]
    with pytest.raises(ThrottledError):
        await a.require_assignment(first)
    await b.require_assignment(second)
    statuses = [e["status"] for e in graph_requests(sim, mark)]
    assert statuses == [429, 429, 204] and b.runner.stats.throttled == 1


async def test_a_read_pause_holds_reads_and_writes_a_write_pause_only_writes(
    sim: GraphSim, time: FakeTime, state_store: StateStore, other_store: StateStore
) -> None:
    sent: list[Sent] = []
    b = gateway(sim, time, "B", sent, other_store.throttle, shared_cache_s=0.0)
    await state_store.throttle.pause_until("write", time.now() + timedelta(seconds=7))
    assert await b.get_user("ada@contoso.onmicrosoft.com") is not None
    assert sent[-1].at == time.now()  # the read went at once
    start = time.now()
    await b.require_assignment(_apps(sim)[0])
    assert sent[-1].at == start + timedelta(seconds=7)  # the write waited

    await state_store.throttle.pause_until("read", time.now() + timedelta(seconds=3))
    start = time.now()
    await b.require_assignment(_apps(sim)[1])
    assert sent[-1].at == start + timedelta(seconds=3)  # a write waits for the read budget too


async def test_concurrent_writers_keep_the_latest_time_and_never_move_it_back(
    time: FakeTime, state_store: StateStore, other_store: StateStore
) -> None:
    repos = [state_store.throttle, other_store.throttle]
    # Ten writers at once: each succeeds at most once, so none loses more than nine races (the limit is 10).
    times = [time.now() + timedelta(seconds=s) for s in range(1, 11)]
    random.Random(7).shuffle(times)
    stored = await asyncio.gather(*(repos[i % 2].pause_until("write", t) for i, t in enumerate(times)))
    assert all(s >= t for s, t in zip(stored, times, strict=True))  # each saw its time or a later one
    assert await state_store.throttle.paused_until("write") == max(times)
    earlier = await other_store.throttle.pause_until("write", time.now())
    assert earlier == max(times) == await state_store.throttle.paused_until("write")
    assert await state_store.throttle.paused_until("read") is None  # buckets are separate


async def test_storage_down_falls_back_to_the_in_process_pause(
    sim: GraphSim, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    down = StateStore.from_connection_string(
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};"
        f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;",
        "down",
    )
    sent: list[Sent] = []
    gw: GraphGateway = gateway(sim, time, "A", sent, down.throttle)
    await drain_write_budget(sim, 15)
    mark, apps = len(sim.log), _apps(sim)
    try:
        with caplog.at_level(logging.WARNING, logger="pimwarden.graph"):
            for app in apps[:3]:
                await gw.require_assignment(app)
    finally:
        await down.close()
    log = graph_requests(sim, mark)
    assert [e["status"] for e in log] == [429, 204, 429, 204, 429, 204]  # each retried once, after the pause
    assert consecutive_429(log) == 0
    warnings = [r.getMessage() for r in caplog.records if r.name == "pimwarden.graph"]
    assert len(warnings) == 1 and "shared throttle pause unavailable" in warnings[0]
    assert key not in warnings[0] and str(port) not in warnings[0]
