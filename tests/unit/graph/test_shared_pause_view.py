"""The call runner's view of the shared throttle pause: cached reads, bounded waits on storage, failures
that fall back to "no shared pause" (storage itself is exercised in tests/integration)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from shared.clock import FixedClock
from shared.graph.pause import PauseBucket, SharedPauseView, buckets_for
from tests.unit.graph.memory_pause import MemoryPause, Ticks


def _view(port: MemoryPause, clock: FixedClock, ticks: Ticks, **options: float) -> SharedPauseView:
    return SharedPauseView(port, clock=clock, monotonic=ticks, **options)


async def test_another_instances_pause_is_seen_once_the_cache_expires() -> None:
    port, clock, ticks = MemoryPause(), FixedClock(), Ticks()
    view = _view(port, clock, ticks, cache_s=1.0)
    assert await view.remaining(buckets_for(write=True)) == 0.0
    port.times["write"] = clock.now() + timedelta(seconds=5)  # another instance met a 429
    ticks.now += 0.5
    assert await view.remaining(buckets_for(write=True)) == 0.0  # still the cached answer
    ticks.now += 0.5
    assert await view.remaining(buckets_for(write=True)) == 5.0
    assert await view.remaining(buckets_for(write=False)) == 0.0  # reads are not held by writes


async def test_recording_keeps_a_later_stored_time() -> None:
    clock, ticks = FixedClock(), Ticks()
    port = MemoryPause({"read": clock.now() + timedelta(seconds=9)})
    view = _view(port, clock, ticks)
    await view.record(PauseBucket.READ, 2.0)
    assert port.times["read"] == clock.now() + timedelta(seconds=9)
    assert await view.remaining([PauseBucket.READ]) == 9.0


async def test_a_pause_within_one_already_known_costs_no_round_trip(caplog: pytest.LogCaptureFixture) -> None:
    clock, ticks = FixedClock(), Ticks()
    port = MemoryPause({"write": clock.now() + timedelta(seconds=9)})
    view = _view(port, clock, ticks)
    assert await view.remaining([PauseBucket.WRITE]) == 9.0
    port.broken = True  # storage is not asked again: no failure to log
    with caplog.at_level(logging.WARNING, logger="pimwarden.graph"):
        await view.record(PauseBucket.WRITE, 3.0)
        assert caplog.records == []
        await view.record(PauseBucket.WRITE, 12.0)  # later than known: storage is asked (and fails)
        assert len(caplog.records) == 1


async def test_a_failing_store_means_no_shared_pause_and_one_warning_without_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, ticks = FixedClock(), Ticks()
    port = MemoryPause({"write": datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)}, broken=True)
    view = _view(port, clock, ticks, cache_s=0.0, retry_after_failure_s=30.0)
    with caplog.at_level(logging.INFO, logger="pimwarden.graph"):
        for _ in range(3):
            assert await view.remaining(buckets_for(write=True)) == 0.0
            await view.record(PauseBucket.WRITE, 1.0)
            ticks.now += 20.0  # past the 30 s back-off too: storage is tried again, fails again
        port.broken = False
        ticks.now += 30.0
        assert await view.remaining(buckets_for(write=True)) == 30.0  # back: the stored pause counts
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "unavailable" in m]) == 1
    assert "usable again" in messages[-1]
    assert not any("127.0.0.1" in m or "secret" in m for m in messages)


async def test_a_hanging_store_is_given_up_after_the_timeout() -> None:
    clock, ticks = FixedClock(), Ticks()
    view = _view(MemoryPause(hang=True), clock, ticks, timeout_s=0.05)
    assert await asyncio.wait_for(view.remaining([PauseBucket.READ]), timeout=2.0) == 0.0


async def test_pauses_and_heartbeats_come_in_one_read_and_a_beat_forces_the_next() -> None:
    port, clock, ticks = MemoryPause(), FixedClock(), Ticks()
    port.seen["other"] = clock.now()
    view = _view(port, clock, ticks, cache_s=1.0)
    assert await view.remaining(buckets_for(write=True)) == 0.0
    assert port.reads == 1 and view.known is not None and set(view.known.instances) == {"other"}
    await view.beat("me", forget=["other"])
    assert port.seen == {"me": clock.now()}  # own heartbeat stored, the one named gone dropped
    assert view.known is not None and set(view.known.instances) == {"me"}
    await view.current()  # within the cache time, yet read again: who else beat meanwhile?
    assert port.reads == 2


async def test_a_failed_read_keeps_what_was_last_known() -> None:
    port, clock, ticks = MemoryPause(), FixedClock(), Ticks()
    port.seen["other"] = clock.now()
    view = _view(port, clock, ticks, cache_s=0.0)
    first = await view.current()
    port.broken = True
    assert await view.current() == first and view.down
    await view.beat("me")  # storage down: nothing stored, nothing raised
    assert port.seen == {"other": clock.now()}
