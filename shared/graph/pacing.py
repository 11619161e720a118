"""Write pacing: once Graph's write budget is reached, writes go one per slot instead of all at once.

Graph's identity-and-access write quota is a bucket per app per tenant: 3,000 writes per 150 s
(docs: throttling-limits, "Identity and access service limits"). Its burst is free to use: until a write
429, writes are not paced. After one, the bucket is empty and refills at 20 writes/s; a pause alone does
not help much then: when it ends, every waiter of every instance resumes at once and the refill (a 1 s
Retry-After is 20 writes' worth) cannot serve them all, so retries are throttled again.

Paced mode, per instance (process):
* entered on a write 429 of its own, or on seeing the write pause of another instance in the shared
  record (shared/graph/pause.py) ended less than `window_s` ago; renewed by each own write 429 and by
  each write that had to wait for its slot (demand still at the budget); it ends `window_s` (Graph's
  write window) after the last of these;
* each write waits for its slot: next = max(now, next) + 1 / rate, where
  rate = documented rate x `safety` / active instances, so together the instances stay under the refill;
* after a 429 the slots start when its pause ends: waiters resume one slot apart, not all at once;
* active instances: each paced instance writes a heartbeat (every `heartbeat_s`; at once on entering paced
  mode and after a write 429, at most once a second); an instance counts if seen in the last `active_s`
  (itself always). Read with the pauses in one cached query. Storage down: the count last read stands
  (1 if none).

It relies on a pause refilling at least one write per instance (a pause of 1 s refills 20): when a pause
ends, each instance's first slot is at once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from shared.graph.pause import PauseBucket, SharedPauseView

# Graph's write quota per app per tenant, identity and access: 3,000 requests per 150 seconds
# (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
GRAPH_WRITES_PER_S = 3000 / 150
_REBEAT_S = 1.0  # a heartbeat this recent is not written again for a 429 (a burst of 429s: one beat)


@dataclass(frozen=True)
class PacingConfig:
    """How writes are paced once the write budget is reached (defaults: Graph's documented figures)."""

    writes_per_s: float = GRAPH_WRITES_PER_S  # the tenant's budget for this app, all instances together
    safety: float = 0.95  # a margin for clock skew, late wake-ups and an instance not yet counted
    window_s: float = 150.0  # Graph's write window: how long paced mode lasts after the last sign
    heartbeat_s: float = 20.0
    active_s: float = 60.0  # a heartbeat this recent counts the instance as active
    forget_s: float = 3600.0  # a heartbeat this old is deleted by the next instance that beats


class SlotScheduler:
    """Hands out send times at least `interval_s` apart (pure: the caller says what time it is)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._next = float("-inf")

    def take(self, now: float) -> float:
        """The time of the next free slot (`now` when free); the one after is `interval_s` later."""
        slot = max(now, self._next)
        self._next = slot + self.interval_s
        return slot

    def hold(self, until: float) -> None:
        """No slot before `until` (a pause ends then)."""
        self._next = max(self._next, until)


class WritePacer:
    """Per-instance paced mode and slot scheduler (see the module docstring); never raises."""

    def __init__(
        self,
        config: PacingConfig,
        shared: SharedPauseView | None,
        *,
        holder: str | None = None,
        sleep: Callable[[float], Awaitable[None]],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.holder = holder or uuid.uuid4().hex[:12]
        self._shared = shared
        self._sleep = sleep
        self._monotonic = monotonic
        self._paced_until = float("-inf")
        self._last_beat = float("-inf")
        self._beat_soon = False  # paced mode entered or renewed by a 429: beat now (at most once a second)
        self._instances = 1  # the last count read (kept while storage is down)
        self._slots = SlotScheduler(self._interval())
        self.waits = 0  # writes that waited for a slot (for benchmarks and tests)

    @property
    def instances(self) -> int:
        """Active instances as last counted (this one included)."""
        return self._instances

    async def throttled(self, pause_s: float) -> None:
        """A write 429 with this pause: paced mode (renewed), no slot before the pause ends, heartbeat."""
        now = self._monotonic()
        self._paced_until = now + self.config.window_s
        self._slots.hold(now + pause_s)
        self._beat_soon = True
        await self._beat_if_due()

    async def wait(self) -> bool:
        """Wait for this write's slot when paced; whether it waited at all."""
        if not self._paced():
            return False
        await self._beat_if_due()
        self._slots.interval_s = self._interval()
        now = self._monotonic()
        delay = self._slots.take(now) - now
        if delay <= 0:
            return False
        self.waits += 1
        self._paced_until = max(self._paced_until, now + self.config.window_s)
        await self._sleep(delay)
        return True

    def _paced(self) -> bool:
        now = self._monotonic()
        if now < self._paced_until:
            return True
        state = self._shared.known if self._shared is not None else None
        until = state.pauses.get(PauseBucket.WRITE) if state is not None else None
        if until is None or self._shared is None:
            return False
        ended_s = (self._shared.clock.now() - until).total_seconds()
        if ended_s >= self.config.window_s:
            return False
        self._paced_until = now + self.config.window_s - ended_s  # window_s after the pause ends
        self._beat_soon = True  # entering paced mode: tell the others at once
        return True

    def _interval(self) -> float:
        self._instances = self._count()
        return self._instances / (self.config.writes_per_s * self.config.safety)

    def _count(self) -> int:
        if self._shared is None or self._shared.down or self._shared.known is None:
            return self._instances
        since = self._shared.clock.now() - timedelta(seconds=self.config.active_s)
        return 1 + self._shared.known.active(since, besides=self.holder)

    async def _beat_if_due(self) -> None:
        now = self._monotonic()
        every = _REBEAT_S if self._beat_soon else self.config.heartbeat_s
        if self._shared is None or now - self._last_beat < every:
            return
        self._last_beat, self._beat_soon = now, False  # before the round trip: one beat in flight
        state = self._shared.known
        forget: list[str] = []
        if state is not None:
            gone = self._shared.clock.now() - timedelta(seconds=self.config.forget_s)
            forget = [h for h, seen in state.instances.items() if seen < gone and h != self.holder][:5]
        await self._shared.beat(self.holder, forget=forget)
