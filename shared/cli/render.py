"""Human-readable and JSON output for the CLI (no I/O beyond returning text)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from shared.engine.reconcile import AppResult, Outcome
from shared.engine.run import RunSummary
from shared.storage import ManagedApp, UnreadableApp


def plan_text(summary: RunSummary) -> str:
    """What would change and why, per app."""
    lines = []
    for result in sorted(summary.results, key=lambda r: r.service_principal_id):
        lines += _app_lines(result)
    changes = sum(len(r.plan.actions) for r in summary.results if r.plan)
    lines.append(f"Plan: {changes} change(s) in {summary.count_with_changes()} app(s); "
                 f"{summary.drifted} app(s) drifted; {summary.failed} failed.")
    return "\n".join(lines)


def _app_lines(result: AppResult) -> list[str]:
    if result.error:
        return [f"! {result.service_principal_id}: {result.outcome}: {result.error}"]
    if result.plan is None or (not result.plan.actions and not result.plan.drift and not result.plan.notices):
        return []
    lines = [f"app {result.service_principal_id}:"]
    lines += [f"  ~ drift {d.kind}: {d.subject}: found {d.found}; wants {d.desired}"
              for d in result.plan.drift]
    lines += [f"  + {a.kind}: {a.reason}" for a in result.plan.actions]
    lines += [f"  # {n}" for n in result.plan.notices]
    return lines


def left_over(summary: RunSummary) -> list[str]:
    """What an apply left undone that is not a failure: apps another worker holds, apps not reached."""
    lines = [f"~ {r.service_principal_id}: skipped: another worker holds its lease"
             f"{f' ({r.error})' if r.error else ''}; `apply --wait` waits for it"
             for r in sorted(summary.results, key=lambda r: r.service_principal_id)
             if r.outcome is Outcome.SKIPPED]
    if summary.not_reached:
        lines.append(f"~ {summary.not_reached} app(s) not reached within the run budget: "
                     "they stay due for the next tick")
    return lines


def plan_json(summary: RunSummary) -> str:
    """The plan as JSON: one entry per app with actions, drift and notices."""
    apps = [{"service_principal_id": r.service_principal_id, "outcome": r.outcome.value, "error": r.error,
             "plan": r.plan.to_dict() if r.plan else None} for r in summary.results]
    return json.dumps({"summary": summary.line(), "apps": apps}, indent=2, default=str)


def status_rows(apps: list[ManagedApp], unreadable: Sequence[UnreadableApp] = ()) -> list[dict[str, Any]]:
    """Managed apps as plain rows; rows that cannot be read as `state_unreadable` with the reason."""
    rows = [{
        "service_principal_id": a.app_id, "display_name": a.display_name, "status": a.status.value,
        "profile": a.profile, "in_scope": a.in_scope, "groups": dict(a.role_groups),
        "last_reconcile": a.last_reconcile.isoformat() if a.last_reconcile else None,
        "last_drift": a.last_drift.isoformat() if a.last_drift else None, "last_error": a.last_error,
    } for a in sorted(apps, key=lambda a: a.display_name.lower())]
    return rows + [{
        "service_principal_id": u.app_id, "display_name": u.app_id, "status": "state_unreadable",
        "profile": "", "in_scope": None, "groups": {}, "last_reconcile": None, "last_drift": None,
        "last_error": f"property {u.property} unreadable: {u.why}", "unreadable_property": u.property,
    } for u in sorted(unreadable, key=lambda u: u.app_id)]


def status_text(rows: list[dict[str, Any]]) -> str:
    """A table of managed apps."""
    if not rows:
        return "No managed apps yet (run `python -m shared apply`)."
    lines = [f"{'APP':36} {'STATUS':16} {'PROFILE':10} {'LAST RECONCILE':26} LAST ERROR"]
    for r in rows:
        lines.append(f"{r['display_name'][:36]:36} {r['status']:16} {r['profile'][:10]:10} "
                     f"{(r['last_reconcile'] or '-'):26} {r['last_error'] or ''}")
    return "\n".join(lines)


def queue_lines(status: Mapping[str, Any]) -> list[str]:
    """The latest fanned-out tick and the poisoned messages, one line each (nothing when none)."""
    lines = []
    tick = status.get("latest_tick")
    if tick:
        lines.append(f"Latest tick ({tick['cause']}, started {tick['started']}): {tick['progress']}")
    poisoned = status.get("poisoned")
    if poisoned:
        apps = ", ".join(poisoned["recent_apps"][:5])
        lines.append(f"Reconcile messages abandoned (poison queue): {poisoned['count']}, last at "
                     f"{poisoned['last_at']}; recent apps: {apps}")
    return lines
