"""Write pacing: the pure slot scheduler, and the pacer's paced mode, instance count and heartbeats over an
in-memory shared record (storage and graphsim: tests/integration/test_graph_pacing.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from shared.clock import FixedClock
from shared.graph.pacing import GRAPH_WRITES_PER_S, PacingConfig, SlotScheduler, WritePacer
from shared.graph.pause import SharedPauseView
from tests.unit.graph.memory_pause import MemoryPause, Ticks

CONFIG = PacingConfig(writes_per_s=10.0, safety=0.8)  # one slot each 1 / 8 s = 0.125 s per instance


def test_the_documented_rate_is_3000_writes_per_150_seconds() -> None:
    assert GRAPH_WRITES_PER_S == 20.0


def test_slots_are_one_interval_apart_from_now_when_free() -> None:
    slots = SlotScheduler(0.5)
    assert [slots.take(10.0) for _ in range(3)] == [10.0, 10.5, 11.0]
    assert slots.take(10.2) == 11.5  # queued behind the slots already given
    assert slots.take(20.0) == 20.0  # idle meanwhile: free at once, no credit for the idle time
    slots.hold(25.0)
    assert slots.take(21.0) == 25.0  # a pause: nothing before it ends
    slots.hold(22.0)
    assert slots.take(21.0) == 25.5  # an earlier hold changes nothing


class Env:
    """A pacer over a MemoryPause; sleeps are recorded, time moves only when the test says."""

    def __init__(self, config: PacingConfig = CONFIG, *, shared: bool = True) -> None:
        self.port, self.clock, self.ticks = MemoryPause(), FixedClock(), Ticks(1000.0)
        self.slept: list[float] = []
        self.view = SharedPauseView(self.port, cache_s=0.0, clock=self.clock, monotonic=self.ticks)
        self.pacer = WritePacer(
            config, self.view if shared else None, holder="me", sleep=self._sleep, monotonic=self.ticks
        )

    async def _sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))

    def advance(self, seconds: float) -> None:
        self.ticks.now += seconds
        self.clock.advance(timedelta(seconds=seconds))

    async def burst(self, writes: int) -> list[float]:
        """`writes` concurrent writes; the delay each waited for its slot."""
        self.slept.clear()
        await self.view.current()  # as the runner does before each write (the pause check)
        waited = await asyncio.gather(*(self.pacer.wait() for _ in range(writes)))
        assert waited.count(True) == len(self.slept)
        return sorted(self.slept)


async def test_no_pacing_before_a_write_429() -> None:
    env = Env()
    assert await env.burst(5) == []
    assert env.port.seen == {}  # no heartbeat either


async def test_after_a_429_writes_go_one_slot_apart_from_the_end_of_its_pause() -> None:
    env = Env()
    await env.pacer.throttled(2.0)
    assert env.port.seen == {"me": env.clock.now()}  # the heartbeat goes at once
    assert await env.burst(3) == [2.0, 2.125, 2.25]


async def test_active_instances_share_the_rate_and_age_out() -> None:
    env = Env()
    env.port.seen |= {"b": env.clock.now(), "c": env.clock.now() - timedelta(seconds=59)}
    env.port.seen["gone"] = env.clock.now() - timedelta(seconds=61)  # past active_s: not counted
    await env.pacer.throttled(0.0)
    assert await env.burst(2) == [0.375] and env.pacer.instances == 3  # 3 / 8 s apart
    env.advance(2.0)  # c is now 61 s old
    assert await env.burst(2) == [0.25] and env.pacer.instances == 2


async def test_a_write_pause_another_instance_recorded_starts_pacing_for_the_window() -> None:
    env = Env()
    env.port.times["write"] = env.clock.now() - timedelta(seconds=100)  # ended 100 s ago: within 150 s
    env.port.seen["b"] = env.clock.now()
    assert await env.burst(3) == [0.25, 0.5]
    assert set(env.port.seen) == {"me", "b"}  # entering paced mode, it told the others


async def test_a_write_pause_older_than_the_window_starts_nothing() -> None:
    env = Env()
    env.port.times["write"] = env.clock.now() - timedelta(seconds=150)
    assert await env.burst(3) == []
    assert env.port.seen == {}


async def test_paced_mode_lasts_while_writes_queue_and_ends_a_window_after() -> None:
    env = Env()
    await env.pacer.throttled(0.0)
    for _ in range(4):  # demand at the budget: each burst queues, which renews the window
        env.advance(100.0)
        assert await env.burst(2) == [0.125]
    env.advance(151.0)
    assert await env.burst(2) == []


async def test_heartbeats_are_renewed_while_paced_and_the_long_gone_forgotten() -> None:
    env = Env()
    env.port.seen["dead"] = env.clock.now() - timedelta(hours=2)
    await env.pacer.throttled(0.0)
    first = env.port.seen["me"]
    env.advance(10.0)
    await env.burst(2)
    assert env.port.seen["me"] == first  # not due yet
    env.advance(11.0)
    await env.burst(2)
    assert env.port.seen["me"] == first + timedelta(seconds=21)
    assert "dead" not in env.port.seen


async def test_a_burst_of_429s_writes_one_heartbeat() -> None:
    env = Env()
    for _ in range(8):  # every waiter of the instance throttled at once
        await env.pacer.throttled(1.0)
    assert env.port.beats == 1
    env.advance(1.0)
    await env.pacer.throttled(1.0)  # a 429 a second later: the others hear of it again
    assert env.port.beats == 2


async def test_storage_down_keeps_the_last_count() -> None:
    env = Env()
    env.port.seen |= {"b": env.clock.now(), "c": env.clock.now()}
    await env.pacer.throttled(0.0)
    assert await env.burst(2) == [0.375]
    env.port.broken = True
    env.advance(120.0)  # b and c would have aged out, but nothing fresh is known
    assert await env.burst(2) == [0.375] and env.pacer.instances == 3


@pytest.mark.parametrize("shared", [True, False])
async def test_without_a_shared_record_an_instance_paces_alone(shared: bool) -> None:
    env = Env(shared=shared)
    await env.pacer.throttled(1.0)
    assert await env.burst(2) == [1.0, 1.125]
