"""Waiting for apps another worker holds: `apply --wait`.

An app whose lease another worker holds is skipped by a run (the holder is on it, or it died and its
lease runs out). An operator who wants this run to leave nothing behind waits: every few seconds the
skipped apps are tried again, one by one, until none is held or the wait is over.
"""

from __future__ import annotations

import time
from dataclasses import replace

from shared.engine.reconcile import AppResult, Outcome
from shared.engine.run import RunSummary, enforce
from shared.engine.services import Services

DEFAULT_WAIT_S = 330.0  # a little over the default lease (300 s): a dead holder's lease runs out
POLL_S = 2.0


async def wait_for_held(services: Services, summary: RunSummary, cause: str, wait_s: float) -> RunSummary:
    """`summary` with its skipped apps reconciled once their leases are free (or still skipped when
    the wait ran out)."""
    deadline = time.monotonic() + max(wait_s, 0.0)
    while _held(summary) and time.monotonic() < deadline:
        await services.sleep(min(POLL_S, max(deadline - time.monotonic(), 0.0)))
        for sp_id in _held(summary):
            again = await enforce(services, cause, only_app=sp_id)
            summary = _merge(summary, again)
    return summary


def _held(summary: RunSummary) -> list[str]:
    return [r.service_principal_id for r in summary.results if r.outcome is Outcome.SKIPPED]


def _merge(summary: RunSummary, again: RunSummary) -> RunSummary:
    fresh: dict[str, AppResult] = {r.service_principal_id: r for r in again.results}
    results = [fresh.pop(r.service_principal_id, r) for r in summary.results]
    return replace(
        summary,
        results=results + list(fresh.values()),
        graph_requests=summary.graph_requests + again.graph_requests,
        graph_writes=summary.graph_writes + again.graph_writes,
        elapsed_s=summary.elapsed_s + again.elapsed_s,
    )
