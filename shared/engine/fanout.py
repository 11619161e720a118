"""The timer's half of a fanned-out tick: gather change signals, enqueue the apps that are due.

The Functions host is the scheduler: this function only decides which apps need a look and puts one
queue message per app on the reconcile queue; the queue trigger (shared/engine/worker.py) does the
work on however many instances the platform runs. Order, so a crash anywhere loses nothing and
duplicates nothing that matters:

1. gather (reads only);
2. the tick row (what the workers' counts belong to), then the messages, then queued markers for
   the apps whose message was sent (an app already queued is not queued again while its marker
   lives: until a worker starts on it, at most its lease time); a send that failed fails the tick;
3. cursors move last: a crash or a failed send before it re-finds the same apps next time, and the
   markers keep the ones already sent from being sent twice. A message sent twice anyway costs reads,
   never a write: the per-app lease and reconcile's idempotence see to that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from shared.engine.gather import gather
from shared.engine.schedule import DueSchedule
from shared.engine.services import Services
from shared.engine.signals import move_cursors
from shared.graph.counting import counting
from shared.graph.errors import PermissionMissingError
from shared.permissions.status import PermissionStatus
from shared.permissions.status import save as save_permission_status
from shared.storage.ticks import Tick, new_tick_id
from shared.telemetry.runs import tick_dispatched
from shared.telemetry.tracing import span

log = logging.getLogger("pimwarden.enforce")


class AppQueue(Protocol):
    """Where due apps go: one reconcile message per app, tagged with the tick."""

    async def send_apps(self, cause: str, app_ids: Sequence[str], tick_id: str) -> list[str]:
        """Send every message (a failure does not stop the others); the apps whose message was sent."""
        ...


class EnqueueError(Exception):
    """Some messages could not be sent: the tick fails before any cursor moves (found again next time)."""


@dataclass
class DispatchSummary:
    """What one fanned-out tick found and enqueued."""

    cause: str
    full: bool = False
    tick_id: str | None = None
    found: int = 0
    enqueued: int = 0
    already_queued: int = 0
    graph_requests: int = 0
    elapsed_s: float = 0.0
    blocked: str | None = None
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The one-line summary the timer logs."""
        return (
            f"dispatch cause={self.cause} full={str(self.full).lower()} tick={self.tick_id or '-'} "
            f"apps_found={self.found} enqueued={self.enqueued} already_queued={self.already_queued} "
            f"graph_requests={self.graph_requests} elapsed_s={self.elapsed_s:.1f}"
            + (" blocked=true" if self.blocked else "")
            + "".join(f" warning={w!r}" for w in self.warnings)
        )


async def dispatch(services: Services, queue: AppQueue, cause: str, *, full: bool = False) -> DispatchSummary:
    """Gather this tick's apps and enqueue those not already queued; move the cursors last."""
    started = time.monotonic()
    summary = DispatchSummary(cause, full=full)
    with span("pimwarden.dispatch", {"pimwarden.cause": cause}), counting() as calls:
        await _dispatch(services, queue, summary)
        summary.graph_requests = calls.requests
        summary.elapsed_s = time.monotonic() - started
        tick_dispatched(cause=cause, full=summary.full, elapsed_s=summary.elapsed_s, found=summary.found,
                        enqueued=summary.enqueued)
    return summary


async def _dispatch(services: Services, queue: AppQueue, summary: DispatchSummary) -> None:
    store, now = services.store, services.clock.now()
    try:
        targets, pending, summary.full = await gather(services, now, summary.full, summary.warnings)
    except PermissionMissingError as error:
        log.error("enforcement blocked: %s", error)
        summary.blocked = str(error)
        status = PermissionStatus(now, error.permissions, (str(error),))
        await save_permission_status(store.cursors, status, complete=False)
        return
    summary.found = len(targets)
    queued = await store.ticks.queued(now) if targets else set()
    due = sorted(app for app in targets if app not in queued)
    summary.already_queued = len(targets) - len(due)
    if due:
        await _enqueue(services, queue, summary, due, now)
    await move_cursors(store.cursors, pending, now)
    if summary.full:
        # Every managed app is on its way: the due list's overflow (if any) is covered, and the
        # permission record starts afresh from what discovery saw (workers add what they meet).
        await DueSchedule(store.cursors).update(now, set_due={}, clear_overflow=True)
        status = PermissionStatus(now, warnings=tuple(summary.warnings))
        await save_permission_status(store.cursors, status, complete=True)
    elif summary.warnings:
        await save_permission_status(store.cursors, PermissionStatus(now, warnings=tuple(summary.warnings)),
                                     complete=False)


async def _enqueue(
    services: Services, queue: AppQueue, summary: DispatchSummary, due: list[str], now: datetime
) -> None:
    ticks = services.store.ticks
    tick = Tick(new_tick_id(now), summary.cause, now, summary.full, len(due))
    await ticks.start(tick)
    sent = await queue.send_apps(summary.cause, due, tick.tick_id)
    # Marked only once sent: a marker for a message that never landed would hide its app from the
    # retry (or the next tick). A crash between the two only costs a duplicate message (reads).
    await ticks.mark_queued(sent, now + timedelta(seconds=services.config.lease_seconds), tick.tick_id)
    summary.tick_id, summary.enqueued = tick.tick_id, len(sent)
    if len(sent) < len(due):
        raise EnqueueError(f"{len(due) - len(sent)} of {len(due)} reconcile messages could not be sent")
