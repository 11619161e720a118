"""Timer triggers for enforcement: the regular tick and the slower full audit (thin: call the engine, log).

Schedules come from settings (`%PIMWARDEN_ENFORCE_SCHEDULE%`, `%PIMWARDEN_FULL_AUDIT_SCHEDULE%`);
`run_on_startup` stays off. Both end in the same `enforce()` the operator CLI calls.
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared.engine.run import RunSummary, enforce
from shared.engine.services import build_services

bp = func.Blueprint()  # type: ignore[no-untyped-call]
log = logging.getLogger("pimwarden.enforce")


@bp.timer_trigger(schedule="%PIMWARDEN_ENFORCE_SCHEDULE%", arg_name="timer", run_on_startup=False,
                  use_monitor=True)
async def enforce_timer(timer: func.TimerRequest) -> None:
    """One enforcement tick: change signals, then every app they name."""
    await run_tick(full=False, past_due=timer.past_due)


@bp.timer_trigger(schedule="%PIMWARDEN_FULL_AUDIT_SCHEDULE%", arg_name="timer", run_on_startup=False,
                  use_monitor=True)
async def full_audit_timer(timer: func.TimerRequest) -> None:
    """The safety net: look at every managed app, whatever the signals say."""
    await run_tick(full=True, past_due=timer.past_due)


async def run_tick(*, full: bool, past_due: bool) -> RunSummary:
    """Run the engine and log its one-line summary."""
    summary = await enforce(build_services(), "timer", full=full)
    log.info("%s past_due=%s", summary.line(), str(past_due).lower())
    return summary
