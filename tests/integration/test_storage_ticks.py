"""Tick rows, per-worker counters and queued markers against real Azurite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shared.storage import StateStore
from shared.storage.ticks import Tick, TickCounts, TickProgress, new_tick_id

pytestmark = pytest.mark.azurite

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


async def test_latest_is_the_newest_tick_with_every_workers_counts_summed(state_store: StateStore) -> None:
    ticks = state_store.ticks
    assert await ticks.latest() is None
    old = Tick(new_tick_id(NOW), "timer", NOW, False, 3)
    new = Tick(new_tick_id(NOW + timedelta(minutes=15)), "timer", NOW + timedelta(minutes=15), True, 50)
    await ticks.start(old)
    await ticks.start(new)
    a, b = TickProgress(ticks, "instance-a"), TickProgress(ticks, "instance-b")
    await a.add(new.tick_id, TickCounts(done=1, writes=5, last_at=NOW + timedelta(minutes=16)))
    await b.add(new.tick_id, TickCounts(done=2, failed=1, last_at=NOW + timedelta(minutes=17)))
    await a.add(new.tick_id, TickCounts(done=1, throttled=2, last_at=NOW + timedelta(minutes=16)))
    await a.add(old.tick_id, TickCounts(done=3))

    latest = await ticks.latest()

    assert latest is not None and latest.tick_id == new.tick_id and latest.full and latest.enqueued == 50
    counts = latest.counts
    assert (counts.done, counts.failed, counts.writes, counts.throttled) == (4, 1, 5, 2)
    assert latest.counts.last_at == NOW + timedelta(minutes=17)


async def test_concurrent_adds_in_one_process_lose_nothing(state_store: StateStore) -> None:
    ticks = state_store.ticks
    tick = Tick(new_tick_id(NOW), "timer", NOW, False, 200)
    await ticks.start(tick)
    progress = TickProgress(ticks, "instance-a")

    await asyncio.gather(*(progress.add(tick.tick_id, TickCounts(done=1, writes=2)) for _ in range(200)))

    latest = await ticks.latest()
    assert latest is not None and (latest.counts.done, latest.counts.writes) == (200, 400)


async def test_a_stale_row_in_hand_is_reread_not_overwritten(state_store: StateStore) -> None:
    ticks = state_store.ticks
    tick = Tick(new_tick_id(NOW), "timer", NOW, False, 10)
    await ticks.start(tick)
    first = await ticks.add(tick.tick_id, "instance-a", TickCounts(done=1), None)
    await ticks.add(tick.tick_id, "instance-a", TickCounts(done=1), first)

    await ticks.add(tick.tick_id, "instance-a", TickCounts(done=1), first)  # `first` is stale now

    latest = await ticks.latest()
    assert latest is not None and latest.counts.done == 3


async def test_queued_markers_count_until_their_time(state_store: StateStore) -> None:
    ticks = state_store.ticks
    await ticks.mark_queued([f"app-{i:03}" for i in range(150)], NOW + timedelta(minutes=5), "t1")
    await ticks.mark_queued(["app-late"], NOW + timedelta(minutes=10), "t2")

    assert len(await ticks.queued(NOW)) == 151
    assert await ticks.queued(NOW + timedelta(minutes=6)) == {"app-late"}
    assert await ticks.queued(NOW + timedelta(minutes=11)) == set()


async def test_a_finished_app_is_unmarked(state_store: StateStore) -> None:
    ticks = state_store.ticks
    await ticks.mark_queued(["app-1", "app-2"], NOW + timedelta(minutes=5), "t1")
    await ticks.unmark_queued("app-1")
    await ticks.unmark_queued("app-never-queued")  # nothing to remove is not an error
    assert await ticks.queued(NOW) == {"app-2"}
