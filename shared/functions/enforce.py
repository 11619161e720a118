"""Timer triggers for enforcement: the regular tick and the slower full audit (thin: call the engine, log).

Schedules come from settings (`%PIMWARDEN_ENFORCE_SCHEDULE%`, `%PIMWARDEN_FULL_AUDIT_SCHEDULE%`);
`run_on_startup` stays off. A tick only gathers change signals and enqueues the apps that are due
(shared/engine/fanout.py); the `reconcile` queue trigger does the work on every instance the platform
runs. The operator CLI's `apply` runs the same engine inline instead. Imports happen on first use.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import azure.functions as func

if TYPE_CHECKING:
    from shared.engine.fanout import DispatchSummary

bp = func.Blueprint()  # type: ignore[no-untyped-call]
log = logging.getLogger("pimwarden.enforce")


@bp.timer_trigger(schedule="%PIMWARDEN_ENFORCE_SCHEDULE%", arg_name="timer", run_on_startup=False,
                  use_monitor=True)
async def enforce_timer(timer: func.TimerRequest) -> None:
    """One enforcement tick: change signals, then every app they name onto the reconcile queue."""
    await run_tick(full=False, past_due=timer.past_due)


@bp.timer_trigger(schedule="%PIMWARDEN_FULL_AUDIT_SCHEDULE%", arg_name="timer", run_on_startup=False,
                  use_monitor=True)
async def full_audit_timer(timer: func.TimerRequest) -> None:
    """The safety net: every managed app onto the queue, whatever the signals say."""
    await run_tick(full=True, past_due=timer.past_due)


async def run_tick(*, full: bool, past_due: bool) -> DispatchSummary:
    """Gather and enqueue; log the one-line summary."""
    from shared.api import wiring
    from shared.engine.fanout import dispatch

    api = wiring.current()
    summary = await dispatch(api.engine, api.queue, "timer", full=full)
    log.info("%s past_due=%s", summary.line(), str(past_due).lower())
    return summary
