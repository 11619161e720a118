"""A throttle pause shared by every instance of PIM Warden (the port, and the call runner's view of it).

Scaled out, each Functions instance has its own CallRunner; without a shared record each would spend a
429 of its own to learn what another instance already knows. The port stores "paused until T" (wall
clock UTC: instances share no monotonic clock) per bucket: `write` (a 429 on a write) and `read` (a 429
on a read). A read waits for the read bucket; a write waits for both, as a write spends resource units
too (graphsim's model of Graph's identity-and-access limits, docs: throttling-limits). Beside the pauses,
each instance that paces its writes (shared/graph/pacing.py) keeps a heartbeat, so the pacers can split
the write budget between the instances active now; pauses and heartbeats are read together, in one go.

The view adds what the runner needs: reads cached for `cache_s` (one storage round trip per second at
most, one in flight), bounded by `timeout_s`; and a storage failure never fails a Graph call: it is
logged once (its type only: no URL, no key), what was last read is kept (the in-process pause carries on
alone), and storage is left alone for `retry_after_failure_s`. No storage import here: the adapter is
shared/storage/throttle.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

from shared.clock import Clock, SystemClock

log = logging.getLogger("pimwarden.graph")
T = TypeVar("T")


class PauseBucket(StrEnum):
    """Which of Graph's budgets a 429 was about: a write's, or a read's."""

    READ = "read"
    WRITE = "write"


def buckets_for(*, write: bool) -> tuple[PauseBucket, ...]:
    """The buckets a request waits for: a read its own; a write both (writes spend resource units too)."""
    return (PauseBucket.WRITE, PauseBucket.READ) if write else (PauseBucket.READ,)


@dataclass(frozen=True)
class ThrottleState:
    """What every instance shares: "paused until" per bucket, and when each pacing instance was last seen
    (aware UTC times)."""

    pauses: Mapping[str, datetime] = field(default_factory=dict)
    instances: Mapping[str, datetime] = field(default_factory=dict)

    def active(self, since: datetime, *, besides: str) -> int:
        """Instances other than `besides` seen at or after `since`."""
        return sum(1 for holder, seen in self.instances.items() if holder != besides and seen >= since)


class SharedPause(Protocol):
    """Port: one "paused until" time per bucket and one heartbeat per pacing instance, seen by all."""

    async def state(self) -> ThrottleState:
        """Every pause and heartbeat stored (one read)."""
        ...

    async def pause_until(self, bucket: str, until: datetime) -> datetime:
        """Record `until` unless a later time is stored (never moves back); the time now stored."""
        ...

    async def heartbeat(self, holder: str, at: datetime, *, forget: Sequence[str] = ()) -> None:
        """Record that `holder` paces its writes at `at`; drop the heartbeats of `forget` (long gone)."""
        ...


class SharedPauseView:
    """The call runner's side of a SharedPause: cached, bounded, never raising."""

    def __init__(
        self,
        port: SharedPause,
        *,
        cache_s: float = 1.0,
        timeout_s: float = 2.0,
        retry_after_failure_s: float = 30.0,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._port = port
        self._cache_s = cache_s
        self._timeout_s = timeout_s
        self._retry_after_failure_s = retry_after_failure_s
        self.clock = clock or SystemClock()
        self._monotonic = monotonic
        self._state: ThrottleState | None = None  # the last read (None: nothing known yet)
        self._read_at: float | None = None
        self._lock = asyncio.Lock()
        self._down_until: float | None = None

    @property
    def known(self) -> ThrottleState | None:
        """The state last read (no round trip), None before the first successful read."""
        return self._state

    @property
    def down(self) -> bool:
        """Storage failed lately: what `known` says may be stale."""
        return self._is_down()

    async def current(self) -> ThrottleState | None:
        """The shared state, read at most once per `cache_s` (the last one known when storage fails)."""
        if self._fresh():
            return self._state
        async with self._lock:  # one read in flight
            if self._fresh() or self._is_down():
                return self._state
            read = await self._guarded(self._port.state)
            if read is not None:
                self._state = read
            self._read_at = self._monotonic()
            return self._state

    async def remaining(self, buckets: Iterable[PauseBucket]) -> float:
        """Seconds until every one of `buckets` is free (0.0 when free, or when nothing is known)."""
        state = await self.current()
        if state is None:
            return 0.0
        now = self.clock.now()
        times = [state.pauses[b] for b in buckets if b in state.pauses]
        return max([(until - now).total_seconds() for until in times], default=0.0)

    async def record(self, bucket: PauseBucket, seconds: float) -> None:
        """Tell every instance that `bucket` is paused for `seconds` from now (wall clock)."""
        until = self.clock.now() + timedelta(seconds=seconds)
        known = self._state.pauses.get(bucket) if self._state else None
        if known is not None and known >= until:
            return  # stored times only move later: storage holds this one or a later one already
        stored = await self._guarded(lambda: self._port.pause_until(bucket, until))
        if stored is not None:
            state = self._state or ThrottleState()
            self._state = replace(state, pauses={**state.pauses, bucket: stored})

    async def beat(self, holder: str, *, forget: Sequence[str] = ()) -> None:
        """Record `holder`'s heartbeat; the next read goes to storage (to see who else is pacing)."""
        now = self.clock.now()
        if await self._guarded(lambda: self._beat(holder, now, forget)):
            state = self._state or ThrottleState()
            instances = {h: t for h, t in state.instances.items() if h not in forget}
            self._state = replace(state, instances=instances | {holder: now})
            self._read_at = None

    async def _beat(self, holder: str, at: datetime, forget: Sequence[str]) -> bool:
        await self._port.heartbeat(holder, at, forget=forget)
        return True

    def _fresh(self) -> bool:
        return self._read_at is not None and self._monotonic() - self._read_at < self._cache_s

    def _is_down(self) -> bool:
        return self._down_until is not None and self._monotonic() < self._down_until

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """`await call()` within the timeout; None (and storage left alone a while) when it fails."""
        if self._is_down():
            return None
        try:
            async with asyncio.timeout(self._timeout_s):
                result = await call()
        except Exception as error:  # storage trouble must never fail a Graph call
            self._failed(error)
            return None
        if self._down_until is not None:
            log.info("shared throttle pause: storage usable again")
            self._down_until = None
        return result

    def _failed(self, error: Exception) -> None:
        if self._down_until is None:  # once per outage: the type only (a message may name a URL)
            log.warning(
                "shared throttle pause unavailable (%s): this instance pauses on its own 429s only",
                type(error).__name__,
            )
        self._down_until = self._monotonic() + self._retry_after_failure_s
