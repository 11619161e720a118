"""The operator API's services: re-sync (dry run, one app inline, all apps queued), app views, registrations.

Every write is recorded with the operator's identity from the bearer token (`operator:<upn>`) as the
cause, in the audit trail and on the engine's run. One app is reconciled inline within
`PIMWARDEN_API_INLINE_BUDGET_SECONDS` (well below the 230 s HTTP limit); if it takes longer, the run
goes on and the answer is 202 with where to look. All apps always go through the queue.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from shared.api import changes
from shared.api.answers import Answer, Refusal
from shared.api.bearer import Operator
from shared.api.queue_status import queue_status
from shared.api.reconcile_queue import ReconcileMessage
from shared.api.wiring import ApiServices
from shared.clock import iso_time, iso_time_or_none
from shared.domain.ids import GroupId
from shared.engine.reconcile import AppResult
from shared.engine.run import RunSummary, enforce, reconcile_guarded
from shared.storage import AuditEvent, ManagedApp, UnreadableApp, UnreadableRecordError
from shared.tickets.formats import PROFILE, is_guid, matches

_tasks: set[asyncio.Task[AppResult]] = set()


async def resync(api: ApiServices, who: Operator, app_id: str | None, *, dry_run: bool) -> Answer:
    """Re-sync one app or all; a dry run returns the plan and changes nothing."""
    if app_id is not None and not is_guid(app_id):
        raise Refusal(404, "unknown_app", "apps are named by service principal object id")
    if dry_run:
        return await _dry_run(api, who, app_id and app_id.lower())
    await _audit(api, app_id or "_tenant", "ResyncRequested", who)
    if app_id is None:
        await api.queue.send(ReconcileMessage(who.cause, None, full=True))
        return Answer(202, {"status": "queued", "look": "/api/apps"}, {"Location": "/api/apps"})
    return await _inline(api, who, app_id.lower())


async def _dry_run(api: ApiServices, who: Operator, app_id: str | None) -> Answer:
    """The plan, shared with concurrent and recent dry runs of the same scope (shared.api.plan_sharing)."""
    engine, budget = api.engine, float(api.config.inline_budget_seconds)

    async def plan() -> RunSummary:
        return await enforce(engine, who.cause, only_app=app_id, dry_run=True, budget_s=budget)

    shared = await api.plans.get(app_id or "*", plan, engine.clock.now)
    return Answer(
        200,
        {
            "dry_run": True,
            "planned_at": iso_time(shared.made_at),
            "shared": shared.reused,
            "apps": [_result(r) for r in shared.value.results],
            "not_reached": shared.value.not_reached,
        },
    )


async def _inline(api: ApiServices, who: Operator, app_id: str) -> Answer:
    # Guarded: an error after the 202 is recorded on the app (and logged), never lost in a task.
    task = asyncio.create_task(reconcile_guarded(api.engine, app_id, who.cause))
    done, _ = await asyncio.wait({task}, timeout=api.config.inline_budget_seconds)
    where = f"/api/apps/{app_id}"
    if not done:  # keep running; do not cancel half-way through a Graph write sequence
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
        return Answer(202, {"status": "running", "look": where}, {"Location": where})
    return Answer(200, {**_result(task.result()), "look": where})


def _result(result: AppResult) -> dict[str, Any]:
    return {
        "app": result.service_principal_id,
        "outcome": result.outcome.value,
        "error": result.error,
        "plan": result.plan.to_dict() if result.plan else None,
    }


async def list_apps(api: ApiServices) -> Answer:
    """Every app PIM Warden knows (records and registrations)."""
    store = api.engine.store
    scan = await store.apps.scan()
    records = {a.app_id: a for a in scan.apps}
    broken = {u.app_id: u for u in scan.unreadable}
    registrations = {r.app_id: r for r in await store.registrations.list()}
    apps = [
        _unreadable(broken[i], i in registrations) if i in broken
        else _summary(records.get(i), i, i in registrations)
        for i in sorted(set(records) | set(broken) | set(registrations))
    ]
    return Answer(200, {"apps": apps, **await queue_status(api.engine)})


def _unreadable(app: UnreadableApp, registered: bool) -> dict[str, Any]:
    return {"app": app.app_id, "state": "state_unreadable", "registered": registered,
            "unreadable": {"property": app.property, "why": app.why}}


def _summary(app: ManagedApp | None, app_id: str, registered: bool) -> dict[str, Any]:
    if app is None:
        return {"app": app_id, "state": "registered", "registered": True}
    return {
        "app": app_id,
        "name": app.display_name,
        "state": app.status.value,
        "profile": app.profile,
        "in_scope": app.in_scope,
        "registered": registered,
        "groups": dict(app.role_groups),
        "last_reconcile": _iso(app.last_reconcile),
        "last_drift": _iso(app.last_drift),
        "last_error": app.last_error,
    }


async def app_detail(api: ApiServices, app_id: str) -> Answer:
    """One app: state, profile, groups, drift, last error, eligible members with expiry, open grants."""
    store = api.engine.store
    try:
        app = await store.apps.find(app_id.lower()) if is_guid(app_id) else None
    except UnreadableRecordError as error:
        registered = await store.registrations.find(app_id.lower()) is not None
        return Answer(200, _unreadable(UnreadableApp(app_id.lower(), error.property, error.why), registered))
    registration = await store.registrations.find(app_id.lower()) if is_guid(app_id) else None
    if app is None and registration is None:
        raise Refusal(404, "unknown_app", "PIM Warden does not know this app")
    body = _summary(app, app_id.lower(), registration is not None)
    if registration:
        body["registration"] = {
            "profile": registration.profile,
            "by": registration.registered_by,
            "at": iso_time(registration.registered_at),
            "reason": registration.reason,
        }
    body["eligible"] = await _eligible_members(api, app)
    body["grants"] = [
        {
            "grant": g.grant_id,
            "principal": g.principal_id,
            "upn": g.principal_upn,
            "role": g.role,
            "ends": _iso(g.ends),
            "ticket": f"{g.ticket_system}:{g.ticket_number}" if g.ticket_system else None,
        }
        for g in await store.grants.list_open(app_id.lower())
    ]
    return Answer(200, body)


async def _eligible_members(api: ApiServices, app: ManagedApp | None) -> list[dict[str, Any]]:
    members: list[dict[str, Any]] = []
    for role, group in sorted((app.role_groups if app else {}).items()):
        state = await api.engine.graph.group_pim_state(GroupId(group))
        members += [
            {
                "principal": e.principal_id,
                "role": role,
                "group": group,
                "start": iso_time(e.start),
                "end": _iso(e.end),
            }
            for e in state.eligibilities
        ]
    return members


async def register(api: ApiServices, who: Operator, app_id: str, body: bytes) -> Answer:
    """Register the app explicitly under a profile (body `{"profile": ..., "reason": ...}`)."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise Refusal(400, "invalid_json", "the body is not JSON") from None
    profile = data.get("profile", api.engine.settings.default_profile) if isinstance(data, dict) else None
    reason = data.get("reason", "") if isinstance(data, dict) else None
    if not isinstance(profile, str) or not matches(PROFILE, profile) or not isinstance(reason, str):
        raise Refusal(400, "invalid_payload", errors=[{"path": "/profile", "message": "a profile name"}])
    outcome = await changes.register_app(
        api, app_id, profile, who.cause, reason[:500], api.engine.clock.now()
    )
    return await _after_change(api, who, outcome, "RegistrationAdded")


async def deregister(api: ApiServices, who: Operator, app_id: str) -> Answer:
    """Remove the app's explicit registration."""
    outcome = await changes.deregister_app(api, app_id, api.engine.clock.now())
    return await _after_change(api, who, outcome, "RegistrationRemoved")


async def _after_change(api: ApiServices, who: Operator, outcome: changes.Outcome, action: str) -> Answer:
    if outcome.app_id is None:
        return Answer(outcome.http, {"status": outcome.status.value, **outcome.facts})
    await _audit(api, outcome.app_id, action, who)
    await api.queue.send(ReconcileMessage(who.cause, outcome.app_id))
    where = f"/api/apps/{outcome.app_id}"
    return Answer(202, {"status": "queued", **outcome.facts, "look": where}, {"Location": where})


async def _audit(api: ApiServices, app_id: str, action: str, who: Operator) -> None:
    await api.engine.store.audit.append(
        AuditEvent(
            when=api.engine.clock.now(),
            app_id=app_id,
            action=action,
            cause=who.cause,
            actor=who.cause,
            target=app_id,
            outcome="recorded",
            detail=f"oid={who.object_id}",
        )
    )


_iso = iso_time_or_none
