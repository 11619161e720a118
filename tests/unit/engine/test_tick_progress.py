"""A process's tick counters: what a failed write leaves pending is written by the next add."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared.storage.errors import StorageUnavailableError
from shared.storage.tables import StoredEntity
from shared.storage.ticks import TickCounts, TickProgress


class _Repo:
    """Stands in for TickRepo.add: sums per tick; refuses while `down` names the tick."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.down: set[str] = set()

    async def add(self, tick: str, holder: str, counts: TickCounts, known: Any) -> StoredEntity:
        await asyncio.sleep(0)
        if tick in self.down:
            raise StorageUnavailableError("storage unavailable")
        self.totals[tick] = self.totals.get(tick, 0) + counts.done
        return StoredEntity(f"p-{tick}", holder, {}, "etag")


async def test_counts_of_every_tick_in_a_failed_batch_are_kept_for_the_next_write() -> None:
    repo = _Repo()
    progress = TickProgress(repo, "instance-a")  # type: ignore[arg-type]
    repo.down = {"t1"}
    progress._pending = {"t1": TickCounts(done=2), "t2": TickCounts(done=3)}  # a batch of two ticks

    with pytest.raises(StorageUnavailableError):
        await progress.add("t1", TickCounts(done=1))

    repo.down = set()
    await progress.add("t2", TickCounts(done=1))
    assert repo.totals == {"t1": 3, "t2": 4}
