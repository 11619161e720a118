"""Counting Graph requests per run, with no SDK import (the engine reads these numbers).

`runner.stats` counts everything a CallRunner ever sent. Runs that overlap on one event loop (an inline
resync during a timer run) share the runner, so a run counts its own requests with
`with counting() as stats:` (a context variable, inherited by the tasks the run starts).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass

from shared.context_counters import counting_into


@dataclass
class CallStats:
    """Requests sent (each attempt counts), of which writes, and how many came back 429 (of which a retry
    throttled again: "429 twice in a row", what pausing and pacing are there to avoid)."""

    requests: int = 0
    writes: int = 0
    throttled: int = 0
    throttled_again: int = 0


COUNTING: ContextVar[tuple[CallStats, ...]] = ContextVar("pimwarden_graph_counting", default=())


def counting() -> AbstractContextManager[CallStats]:
    """Count the requests sent in this context (and tasks started in it) into a fresh CallStats.

    Concurrent contexts count apart; a nested one counts into its own stats and its parents'."""
    return counting_into(COUNTING, CallStats())
