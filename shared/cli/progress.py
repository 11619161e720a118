"""How far a run has got, for people: apps done of the total, Graph writes, 429s, and an ETA.

Pure: the time comes from an injected clock (seconds, monotonic). The ETA follows the recent rate
(the last WINDOW_S seconds of finished apps, the whole run until then), so it rises when Graph starts
throttling and falls when it stops, instead of averaging the whole run.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from shared.clock import eta_text
from shared.engine.reconcile import AppResult, Outcome

WINDOW_S = 60.0
FAILED = (Outcome.FAILED, Outcome.DEFERRED, Outcome.UNREADABLE)  # as RunSummary.failed counts them

Clock = Callable[[], float]


@dataclass(frozen=True)
class Snapshot:
    """The progress at one moment; `eta_s` None while unknown (nothing done yet, or stalled)."""

    done: int
    total: int
    writes: int = 0
    throttled: int = 0
    failed: int = 0
    eta_s: float | None = None


class ProgressModel:
    """Counts finished apps and Graph calls; estimates the time left from the recent rate."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self.total = self.done = self.requests = self.writes = self.throttled = self.failed = 0
        self._samples: deque[tuple[float, int]] = deque([(clock(), 0)])  # (time, done), oldest first

    def start(self, total: int) -> None:
        """The run will reconcile `total` apps; the rate is measured from now."""
        self.total = total
        self._samples = deque([(self._clock(), self.done)])

    def add(self, result: AppResult, requests: int, writes: int, throttled: int) -> None:
        """One app finished, with the Graph calls counted since the previous one."""
        self.done += 1
        self.requests, self.writes, self.throttled = (
            self.requests + requests, self.writes + writes, self.throttled + throttled
        )
        self.failed += int(result.outcome in FAILED)
        now = self._clock()
        self._samples.append((now, self.done))
        while self._samples[1][0] <= now - WINDOW_S:  # keep the newest sample at or before the window
            self._samples.popleft()

    def eta_s(self) -> float | None:
        """Seconds until the last app is done at the recent rate: 0 when done, None while unknown."""
        if self.done >= self.total:
            return 0.0
        since, done_then = self._samples[0]
        elapsed = self._clock() - since
        if self.done == done_then or elapsed <= 0:
            return None
        return (self.total - self.done) * elapsed / (self.done - done_then)

    def snapshot(self) -> Snapshot:
        return Snapshot(self.done, self.total, self.writes, self.throttled, self.failed, self.eta_s())


def describe(s: Snapshot) -> str:
    """E.g. `3,120 of 10,000 apps · 15,600 writes · 2 throttled · ETA 27 min`."""
    parts = [f"{s.done:,} of {s.total:,} apps", f"{s.writes:,} writes", f"{s.throttled:,} throttled"]
    if s.failed:
        parts.append(f"{s.failed:,} failed")
    if s.done < s.total and s.eta_s is not None:
        parts.append(f"ETA {eta_text(s.eta_s)}")
    return " · ".join(parts)
