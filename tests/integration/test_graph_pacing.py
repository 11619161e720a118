"""Write pacing across instances (shared/graph/pacing.py): several CallRunners, each with its own
StateStore over the same Azurite tables, concurrent writers on one virtual time, graphsim's write bucket.

graphsim's budget here is 300 writes per 150 s (2 per second, Retry-After 1 s after a drain): the pacers
are told the same rate, as production's are told Graph's documented 20 per second."""

from __future__ import annotations

import itertools
import logging
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from graphsim.app import GraphSim, build_app
from graphsim.tenants import load
from shared.domain.ids import ServicePrincipalId
from shared.graph.gateway import GraphGateway
from shared.graph.pacing import PacingConfig
from shared.graph.pause import SharedPause, ThrottleState
from shared.storage import StateStore
from tests.integration.pause_env import (
    Sent,
    VirtualTime,
    consecutive_429,
    drain_write_budget,
    gateway,
    graph_requests,
)

pytestmark = pytest.mark.azurite
BUDGET = 300  # writes per 150 s
PACING = PacingConfig(writes_per_s=BUDGET / 150, safety=0.95)
SLOT_S = 1 / (PACING.writes_per_s * PACING.safety)  # one instance alone: 0.526 s apart


@pytest.fixture
def sim() -> GraphSim:
    return build_app(load("demo"))


@pytest.fixture
def time(sim: GraphSim) -> VirtualTime:
    return VirtualTime(sim)


@pytest.fixture
async def other_store(azurite: str, state_store: StateStore) -> AsyncIterator[StateStore]:
    store = StateStore.from_connection_string(azurite, state_store.prefix)
    yield store
    await store.close()


def _instance(
    sim: GraphSim, time: VirtualTime, name: str, sent: list[Sent], shared: SharedPause | None
) -> GraphGateway:
    return gateway(sim, time, name, sent, shared, pacing=PACING)


async def _writes(gw: GraphGateway, apps: list[ServicePrincipalId], k: int, each: int) -> None:
    """Worker `k` of four: `each` writes one after the other (the four first ones to four apps)."""
    for i in range(each):
        await gw.require_assignment(apps[(k + 4 * i) % len(apps)])


def _sends(sent: list[Sent], instance: str) -> list[float]:
    """When `instance` sent its writes (virtual seconds)."""
    first = min(s.at for s in sent)
    return [(s.at - first).total_seconds() for s in sent if s.instance == instance and s.method == "PATCH"]


def _gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


def _apps(sim: GraphSim) -> list[ServicePrincipalId]:
    return [ServicePrincipalId(sp["id"]) for sp in sim.tenant.service_principals.values()]


async def test_after_a_429_two_instances_each_write_at_half_the_rate(
    sim: GraphSim, time: VirtualTime, state_store: StateStore, other_store: StateStore
) -> None:
    sent: list[Sent] = []
    a = _instance(sim, time, "A", sent, state_store.throttle)
    b = _instance(sim, time, "B", sent, other_store.throttle)
    await drain_write_budget(sim, BUDGET)
    mark, apps = len(sim.log), _apps(sim)

    await time.run(*(_writes(gw, apps, 2 * i + n, 4) for i, gw in enumerate((a, b)) for n in range(2)))

    log = graph_requests(sim, mark)
    assert sum(1 for e in log if e["status"] != 429) == 16  # every write landed
    assert [e["status"] for e in log[:4]] == [429] * 4  # the first wave found the bucket empty...
    assert sum(1 for e in log if e["status"] == 429) == 4 and consecutive_429(log) == 0  # ...and no other
    assert a.runner.stats.throttled_again == b.runner.stats.throttled_again == 0
    for gw, name in ((a, "A"), (b, "B")):
        paced = _sends(sent, name)[2:]  # after the first wave: from the end of its 1 s pause
        assert paced[0] == 1.0
        assert _gaps(paced) == [round(2 * SLOT_S, 6)] * 7  # two instances: each at half the rate
        assert gw.runner.pacer is not None and gw.runner.pacer.instances == 2
    state = await state_store.throttle.state()
    assert set(state.instances) == {"A", "B"}  # both heartbeats, in the partition of the pauses
    assert state.pauses["write"] == time.now() - timedelta(seconds=paced[-1] - 1.0)


async def test_an_instance_that_only_saw_the_shared_pause_is_paced_too(
    sim: GraphSim, time: VirtualTime, state_store: StateStore, other_store: StateStore
) -> None:
    sent: list[Sent] = []
    a = _instance(sim, time, "A", sent, state_store.throttle)
    b = _instance(sim, time, "B", sent, other_store.throttle)
    await drain_write_budget(sim, BUDGET)
    mark, apps = len(sim.log), _apps(sim)
    await time.run(_writes(a, apps, 0, 2))  # A: one 429, its heartbeat, a write after the pause
    time.advance(30.0)  # B starts later: no 429 of its own, the bucket refilled meanwhile
    await time.run(_writes(b, apps, 1, 6))

    log = graph_requests(sim, mark)
    assert [e["status"] for e in log] == [429] + [204] * 8  # B was never throttled
    assert b.runner.pacer is not None and b.runner.pacer.instances == 2  # A's heartbeat is 30 s old
    assert _gaps(_sends(sent, "B")) == [round(2 * SLOT_S, 6)] * 5


async def test_a_pace_too_fast_for_the_bucket_still_sends_nothing_during_a_pause(
    sim: GraphSim, time: VirtualTime
) -> None:
    sent: list[Sent] = []
    fast = PacingConfig(writes_per_s=2 * PACING.writes_per_s)  # twice what graphsim refills
    a = gateway(sim, time, "A", sent, None, pacing=fast)
    await drain_write_budget(sim, BUDGET)
    apps = _apps(sim)

    await time.run(*(_writes(a, apps, n, 5) for n in range(4)))

    first = min(s.at for s in sent)
    throttled = [s.at for s in sent if s.status == 429]
    assert len(throttled) > 4  # beyond the first wave: the pace outran the refill
    for at in throttled:  # each 429 of this instance paused it for its 1 s Retry-After: no slot within
        assert not [s for s in sent if at < s.at < at + timedelta(seconds=1)], (at - first).total_seconds()
    assert a.runner.stats.throttled_again == 0  # each retry went when its pause had refilled the bucket


async def test_no_pacing_before_a_write_429(
    sim: GraphSim, time: VirtualTime, state_store: StateStore
) -> None:
    sent: list[Sent] = []
    a = _instance(sim, time, "A", sent, state_store.throttle)
    await drain_write_budget(sim, BUDGET)
    time.advance(10.0)  # 20 writes in the bucket again
    mark, apps = len(sim.log), _apps(sim)

    await time.run(*(_writes(a, apps, n, 4) for n in range(4)))

    assert [e["status"] for e in graph_requests(sim, mark)] == [204] * 16
    assert set(_sends(sent, "A")) == {0.0}  # all at once: the burst is free to use
    assert a.runner.pacer is not None and a.runner.pacer.waits == 0
    assert (await state_store.throttle.state()).instances == {}  # no heartbeat while not paced


async def test_storage_down_still_paces_this_instance_alone(
    sim: GraphSim, time: VirtualTime, caplog: pytest.LogCaptureFixture
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
    a = _instance(sim, time, "A", sent, down.throttle)
    await drain_write_budget(sim, BUDGET)
    mark, apps = len(sim.log), _apps(sim)
    try:
        with caplog.at_level(logging.WARNING, logger="pimwarden.graph"):
            await time.run(*(_writes(a, apps, n, 3) for n in range(2)))
    finally:
        await down.close()
    log = graph_requests(sim, mark)
    assert log[0]["status"] == 429 and [e["status"] for e in log[-6:]] == [204] * 6  # all landed
    assert consecutive_429(log) == 0 and a.runner.stats.throttled_again == 0
    paced = [t for t in _sends(sent, "A") if t >= 1.0]  # after the first 429's pause
    assert _gaps(paced) == [round(SLOT_S, 6)] * (len(paced) - 1) and len(paced) == 6  # alone: whole rate
    warnings = [r.getMessage() for r in caplog.records if r.name == "pimwarden.graph"]
    assert len(warnings) == 1 and key not in warnings[0] and str(port) not in warnings[0]


async def test_heartbeats_live_beside_the_pauses_and_the_long_gone_are_deleted(
    time: VirtualTime, state_store: StateStore, other_store: StateStore
) -> None:
    now = time.now()
    await state_store.throttle.pause_until("write", now)
    await state_store.throttle.heartbeat("host-1", now - timedelta(hours=2))
    await other_store.throttle.heartbeat("host-2", now - timedelta(seconds=5))
    await other_store.throttle.heartbeat("host-2", now)  # its own row again: replaced
    assert await other_store.throttle.state() == ThrottleState(
        {"write": now}, {"host-1": now - timedelta(hours=2), "host-2": now}
    )
    await state_store.throttle.heartbeat("host-3", now, forget=["host-1"])
    state = await other_store.throttle.state()
    assert set(state.instances) == {"host-2", "host-3"} and state.pauses == {"write": now}
