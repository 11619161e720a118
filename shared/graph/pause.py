"""A throttle pause shared by every instance of PIM Warden (the port, and the call runner's view of it).

Scaled out, each Functions instance has its own CallRunner; without a shared record each would spend a
429 of its own to learn what another instance already knows. The port stores "paused until T" (wall
clock UTC: instances share no monotonic clock) per bucket: `write` (a 429 on a write) and `read` (a 429
on a read). A read waits for the read bucket; a write waits for both, as a write spends resource units
too (graphsim's model of Graph's identity-and-access limits, docs: throttling-limits).

The view adds what the runner needs: reads cached for `cache_s` (one storage round trip per bucket per
second at most, one in flight), bounded by `timeout_s`; and a storage failure never fails a Graph call:
it is logged once (its type only: no URL, no key), the in-process pause carries on alone, and storage is
left alone for `retry_after_failure_s`. No storage import here: the adapter is shared/storage/throttle.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from shared.clock import Clock, SystemClock

log = logging.getLogger("pimwarden.graph")


class PauseBucket(StrEnum):
    """Which of Graph's budgets a 429 was about: a write's, or a read's."""

    READ = "read"
    WRITE = "write"


def buckets_for(*, write: bool) -> tuple[PauseBucket, ...]:
    """The buckets a request waits for: a read its own; a write both (writes spend resource units too)."""
    return (PauseBucket.WRITE, PauseBucket.READ) if write else (PauseBucket.READ,)


class SharedPause(Protocol):
    """Port: one "paused until" time per bucket, seen by every instance."""

    async def paused_until(self, bucket: str) -> datetime | None:
        """The stored time (aware UTC), or None when nothing was ever recorded."""
        ...

    async def pause_until(self, bucket: str, until: datetime) -> datetime:
        """Record `until` unless a later time is stored (never moves back); the time now stored."""
        ...


@dataclass
class _Cached:
    until: datetime | None
    read_at: float


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
        self._clock = clock or SystemClock()
        self._monotonic = monotonic
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._down_until: float | None = None

    async def remaining(self, buckets: Iterable[PauseBucket]) -> float:
        """Seconds until every one of `buckets` is free (0.0 when free, or when storage is unusable)."""
        now = self._clock.now()
        seconds = 0.0
        for bucket in buckets:
            until = await self._until(bucket)
            if until is not None:
                seconds = max(seconds, (until - now).total_seconds())
        return seconds

    async def record(self, bucket: PauseBucket, seconds: float) -> None:
        """Tell every instance that `bucket` is paused for `seconds` from now (wall clock)."""
        until = self._clock.now() + timedelta(seconds=seconds)
        known = self._cache.get(bucket)
        if known is not None and known.until is not None and known.until >= until:
            return  # stored times only move later: storage holds this one or a later one already
        stored = await self._guarded(lambda: self._port.pause_until(bucket, until))
        if stored is not None:
            self._cache[bucket] = _Cached(stored, self._monotonic())

    async def _until(self, bucket: PauseBucket) -> datetime | None:
        cached = self._cache.get(bucket)
        if cached is not None and self._monotonic() - cached.read_at < self._cache_s:
            return cached.until
        async with self._locks.setdefault(bucket, asyncio.Lock()):  # one read in flight per bucket
            cached = self._cache.get(bucket)
            if cached is not None and self._monotonic() - cached.read_at < self._cache_s:
                return cached.until
            if self._is_down():
                return cached.until if cached else None
            until = await self._guarded(lambda: self._port.paused_until(bucket))
            if until is None and cached is not None and self._is_down():
                until = cached.until  # the read failed: keep what was last known
            self._cache[bucket] = _Cached(until, self._monotonic())
            return until

    def _is_down(self) -> bool:
        return self._down_until is not None and self._monotonic() < self._down_until

    async def _guarded(self, call: Callable[[], Awaitable[datetime | None]]) -> datetime | None:
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
