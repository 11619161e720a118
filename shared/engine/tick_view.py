"""How a fanned-out tick is shown to people (status, /api/apps): counts, progress line, ETA."""

from __future__ import annotations

from typing import Any

from shared.clock import eta_text, iso_time, iso_time_or_none
from shared.storage.ticks import Tick


def tick_dict(tick: Tick) -> dict[str, Any]:
    """The latest tick as an API answer shows it."""
    eta = tick.eta_seconds()
    counts = tick.counts
    return {
        "tick": tick.tick_id,
        "cause": tick.cause,
        "full": tick.full,
        "started": iso_time(tick.started),
        "apps_enqueued": tick.enqueued,
        "apps_done": counts.done,
        "apps_failed": counts.failed,
        "apps_poisoned": counts.poisoned,
        "apps_remaining": tick.remaining,
        "retries": counts.retried,
        "graph_writes": counts.writes,
        "graph_throttled": counts.throttled,
        "last_progress": iso_time_or_none(counts.last_at),
        "eta_seconds": None if eta is None else round(eta),
        "progress": progress_line(tick),
    }


def progress_line(tick: Tick) -> str:
    """"3,120 of 10,000 apps, ETA 27 min" (with failures and poisoned messages when there are any)."""
    counts = tick.counts
    finished = min(counts.finished, tick.enqueued)
    text = f"{finished:,} of {tick.enqueued:,} apps"
    extras = [f"{n:,} {word}" for n, word in ((counts.failed, "failed"), (counts.poisoned, "poisoned")) if n]
    if extras:
        text += f" ({', '.join(extras)})"
    eta = tick.eta_seconds()
    if tick.remaining == 0:
        return text + ", done"
    return text + (", ETA unknown" if eta is None else f", ETA {eta_text(eta)}")
