"""An in-memory SharedPause and a settable monotonic clock, for the pause view's and the pacer's tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shared.graph.pause import ThrottleState


@dataclass
class MemoryPause:
    """A SharedPause in dicts (what other instances would have written); `broken` raises, `hang` hangs."""

    times: dict[str, datetime] = field(default_factory=dict)
    broken: bool = False
    hang: bool = False
    seen: dict[str, datetime] = field(default_factory=dict)
    reads: int = 0
    beats: int = 0

    async def state(self) -> ThrottleState:
        await self._trouble()
        self.reads += 1
        return ThrottleState(dict(self.times), dict(self.seen))

    async def heartbeat(self, holder: str, at: datetime, *, forget: Sequence[str] = ()) -> None:
        await self._trouble()
        self.beats += 1
        self.seen[holder] = at
        for gone in forget:
            self.seen.pop(gone, None)

    async def pause_until(self, bucket: str, until: datetime) -> datetime:
        await self._trouble()
        self.times[bucket] = max(until, self.times.get(bucket, until))
        return self.times[bucket]

    async def _trouble(self) -> None:
        if self.hang:
            await asyncio.sleep(3600)
        if self.broken:
            raise ConnectionError("http://127.0.0.1:1/devstoreaccount1?sig=secret refused")


@dataclass
class Ticks:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now
