"""Dry-run plans shared between requests: a Reader may ask for the plan as often as they like, and
Graph sees at most one planning run per scope per `PLAN_REUSE_SECONDS`.

A dry run over every app reads every app from Graph. Requests arriving while a plan for the same scope
(all apps, or one app) is being made wait for that one (single flight); requests within
`PLAN_REUSE_SECONDS` after it get it again, with the time it was made. A failed run is not kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

PLAN_REUSE_SECONDS = 60.0
T = TypeVar("T")


@dataclass(frozen=True)
class Shared(Generic[T]):
    """A plan (or any result) and when it was made; `reused` when this caller did not start it."""

    value: T
    made_at: datetime
    reused: bool


@dataclass
class SharedRuns(Generic[T]):
    """At most one run per key in flight, and its result kept for `reuse_seconds`."""

    reuse_seconds: float = PLAN_REUSE_SECONDS
    _kept: dict[str, tuple[float, Shared[T]]] = field(default_factory=dict)
    _running: dict[str, asyncio.Task[Shared[T]]] = field(default_factory=dict)

    async def get(self, key: str, run: Callable[[], Awaitable[T]], now: Callable[[], datetime]) -> Shared[T]:
        """The kept result for `key` if recent, else the running one's, else a new run's."""
        kept = self._kept.get(key)
        if kept is not None and time.monotonic() - kept[0] < self.reuse_seconds:
            return Shared(kept[1].value, kept[1].made_at, reused=True)
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(self._made(run, now))
            self._running[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
            return await asyncio.shield(task)  # a caller giving up does not cancel the others' run
        result = await asyncio.shield(task)
        return Shared(result.value, result.made_at, reused=True)

    @staticmethod
    async def _made(run: Callable[[], Awaitable[T]], now: Callable[[], datetime]) -> Shared[T]:
        made_at = now()
        return Shared(await run(), made_at, reused=False)

    def _landed(self, key: str, task: asyncio.Task[Shared[T]]) -> None:
        self._running.pop(key, None)
        if not task.cancelled() and task.exception() is None:
            self._kept[key] = (time.monotonic(), task.result())
