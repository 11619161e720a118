"""Helpers for the shared throttle pause tests: one fake time for every "instance" and for graphsim's
throttle buckets, and a transport that notes when (in that fake time) each request was sent.

graphsim's buckets refill by the real monotonic clock; `FakeTime.sleep` ages them by the seconds it
pretends to wait, so a runner that honours Retry-After in fake time finds the bucket refilled, exactly as
it would after a real wait, and the tests run in milliseconds without timing flakiness.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from graphsim.app import GraphSim
from graphsim.testing import IN_PROCESS_BASE
from shared.graph.calls import CallRunner
from shared.graph.client import build_graph_client
from shared.graph.gateway import GraphGateway
from shared.graph.pause import SharedPause
from tests.tokens import admin_headers, product_credential

BASE = IN_PROCESS_BASE


@dataclass
class FakeTime:
    """Wall clock and monotonic clock that move only when someone sleeps (graphsim's buckets with them)."""

    sim: GraphSim
    wall: datetime = field(default_factory=lambda: datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    mono: float = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds
        for bucket in self.sim.faults.buckets.values():
            bucket.stamp -= seconds  # as if `seconds` had passed for graphsim's throttle too


@dataclass
class VirtualTime(FakeTime):
    """FakeTime for concurrent tasks: `sleep` waits until the clock reaches its deadline, and `run` moves
    the clock to the earliest deadline once every task it runs is asleep (a task waiting on storage, a
    real round trip, is not: the clock waits for it)."""

    _sleepers: list[tuple[float, int, asyncio.Future[None]]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.mono + seconds, next(self._order), woken))
        await woken

    async def run(self, *work: Awaitable[None]) -> None:
        tasks = [asyncio.ensure_future(w) for w in work]
        give_up = asyncio.get_running_loop().time() + 60.0  # real seconds: a task stuck on something else
        while not all(t.done() for t in tasks):
            assert asyncio.get_running_loop().time() < give_up, "tasks neither done nor asleep"
            await asyncio.sleep(0.002)  # real time: storage answers, woken tasks run
            live = sum(1 for t in tasks if not t.done())
            if self._sleepers and len(self._sleepers) == live:
                self.advance(self._sleepers[0][0] - self.mono)
                while self._sleepers and self._sleepers[0][0] <= self.mono:
                    heapq.heappop(self._sleepers)[2].set_result(None)
        await asyncio.gather(*tasks)


@dataclass(frozen=True)
class Sent:
    instance: str
    at: datetime
    method: str
    path: str
    status: int = 0


class Recording(httpx.AsyncBaseTransport):
    """graphsim in-process; notes which instance sent what, at what fake time, and Graph's answer."""

    def __init__(self, sim: GraphSim, time: FakeTime, instance: str, sent: list[Sent]) -> None:
        self._inner = httpx.ASGITransport(app=sim)  # type: ignore[arg-type]
        self._time, self._instance, self._sent = time, instance, sent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        at = self._time.now()
        response = await self._inner.handle_async_request(request)
        self._sent.append(Sent(self._instance, at, request.method, request.url.path, response.status_code))
        return response


def gateway(
    sim: GraphSim, time: FakeTime, instance: str, sent: list[Sent], shared: SharedPause | None,
    **runner: Any,
) -> GraphGateway:
    """One "instance": its own msgraph-sdk client and CallRunner, on the common fake time."""
    credential = product_credential(attribute=True, protected_groups=True)
    client = build_graph_client(BASE, credential, transport=Recording(sim, time, instance, sent))
    calls = CallRunner(
        sleep=time.sleep, monotonic=time.monotonic, clock=time, shared_pause=shared, base_delay_s=0.01,
        instance=instance,
        **runner,
    )
    return GraphGateway(client, calls, sleep=time.sleep, replication_budget_s=5.0)


def graph_requests(sim: GraphSim, mark: int = 0) -> list[dict[str, Any]]:
    """graphsim's log after `mark`: Graph requests only (no control plane, no $batch envelope)."""
    return [
        e for e in list(sim.log)[mark:]
        if e["route"] != "$batch" and not str(e["path"]).startswith("/_sim/")
    ]


def consecutive_429(entries: Sequence[dict[str, Any]]) -> int:
    """429s whose retry (the next request to the same method and path) was throttled again."""
    from bench.figures import consecutive_429 as count

    return count(entries)


async def drain_write_budget(sim: GraphSim, per_150s: int) -> None:
    """Turn graphsim's write throttle on (`per_150s` writes per 150 s, so Retry-After up to 150 / per_150s
    seconds) and spend the whole bucket as a tenant admin (not as PIM Warden)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url="https://g") as http:
        await http.post("/_sim/faults", json={"throttle": {"writes_per_150s": per_150s}})
        for i in range(per_150s):
            group = {"displayName": "D", "mailNickname": f"d{i}", "mailEnabled": False}
            answer = await http.post("/v1.0/groups", json=group | {"securityEnabled": True},
                                     headers=admin_headers())
            assert answer.status_code == 201
