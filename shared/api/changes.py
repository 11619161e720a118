"""Recording what a ticket asks for as *desired* state: a grant opened or closed, a registration put or
removed, and the app marked due. No Graph write happens here; the reconcile does that.

Business idempotency: a grant's id is derived from (app, user, role, ticket), so the same ticket
approved twice (two deliveries) opens one grant; revoking closes only that ticket's grant, and the
user stays eligible while another open grant covers them (the engine plans from the union).

Ordering: a revoke remembers the ticket's close with the close event's time (never later than now),
even when the ticket has no grant yet (its "closed" overtook its "approved"), and stamps the grant's
`closed_at`. A later grant decision for the same ticket grants (or reopens) only if its event is newer
than that close (a re-approved ticket); an older or same-second one is ignored with a reason, so it
cannot bring a revoked eligibility back.

Scope: a ticket belongs to the source that sent it (grant ids, close markers and revokes all carry
the source), so one source can never revoke or reopen a grant another source recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shared.api import guardrails as rules
from shared.api.answers import Refusal
from shared.api.wiring import ApiServices
from shared.domain.ids import ServicePrincipalId
from shared.engine.ports import DirectoryUser
from shared.engine.schedule import DueSchedule
from shared.storage import AlreadyExistsError, Grant, GrantStatus, Registration, RequestStatus
from shared.storage.ticket_closes import close_key
from shared.tickets.decisions import (
    Decision,
    DeregisterApp,
    GrantEligibility,
    Ignored,
    RegisterApp,
    RevokeEligibility,
)
from shared.tickets.formats import is_guid


@dataclass(frozen=True)
class Outcome:
    """What a decision came to: the request status, the HTTP status, facts for the answer and status."""

    status: RequestStatus
    http: int
    facts: dict[str, Any] = field(default_factory=dict)
    app_id: str | None = None


async def apply_decision(
    api: ApiServices, source: str, decision: Decision, now: datetime, *, happened: datetime | None = None
) -> Outcome:
    """Check the guardrails and record the desired change; Refusal when a rule says no.

    `happened` is when the ticket event happened (default `now`); it orders grants and revokes."""
    happened = happened or now
    match decision:
        case Ignored():
            return Outcome(RequestStatus.IGNORED, 200, {"kind": "ignored", "reason": decision.reason})
        case GrantEligibility():
            return await _grant(api, source, decision, now, happened)
        case RevokeEligibility():
            return await _revoke(api, source, decision, now, min(happened, now))
        case RegisterApp():
            return await _register(api, source, decision, now)
        case DeregisterApp():
            return await _deregister(api, source, decision, now)
    raise Refusal(400, "unsupported_decision")


def grant_id(app_id: str, principal_id: str, role: str, system: str, number: str, *, source: str) -> str:
    """The deterministic grant id of one ticket's grant; the ticket is scoped to the source that sent it."""
    text = "\n".join((app_id, principal_id, role, system.lower(), number.lower(), source.lower()))
    return "t" + hashlib.sha256(text.encode()).hexdigest()[:40]


async def _grant(
    api: ApiServices, source: str, d: GrantEligibility, now: datetime, happened: datetime
) -> Outcome:
    target = await rules.managed_app(api, d.app)
    rules.not_protected(api, d.user)
    user = await rules.allowed_user(api, d.user)
    rules.not_protected(api, user.id, user.user_principal_name)
    role = rules.app_role(target, d.app_role)
    starts, ends = rules.eligibility_window(target.profile, d.duration, d.starts, now)
    closed = await api.engine.store.ticket_closes.closed_at(
        target.app_id, close_key(source, d.ticket.system, d.ticket.number)
    )
    if closed is not None and happened <= closed:
        reason = (
            f"the ticket was closed after this event (at {closed.isoformat()}); only a newer approval "
            "grants"
        )
        return Outcome(RequestStatus.IGNORED, 200, {"kind": "ignored", "reason": reason}, target.app_id)
    gid = grant_id(target.app_id, user.id, role, d.ticket.system, d.ticket.number, source=source)
    grant = Grant(
        app_id=target.app_id,
        grant_id=gid,
        principal_id=user.id,
        starts=starts,
        ends=ends,
        principal_upn=user.user_principal_name,
        role=role,
        justification=d.justification,
        ticket_system=d.ticket.system,
        ticket_number=d.ticket.number,
        source=f"ticket:{source}",
    )
    stored = await _open(api, grant, happened)
    if stored is None:
        reason = "the grant was closed after this event; only a newer approval reopens it"
        return Outcome(RequestStatus.IGNORED, 200, {"kind": "ignored", "reason": reason}, target.app_id)
    # A close delivered at the same moment may have been recorded after the first look and found no
    # grant: look again now that the grant exists, so the two sides can never miss each other.
    closed = await api.engine.store.ticket_closes.closed_at(
        target.app_id, close_key(source, d.ticket.system, d.ticket.number)
    )
    if closed is not None and happened <= closed:
        await api.engine.store.grants.close(
            stored, _close_reason(d.ticket.system, d.ticket.number), closed
        )
        reason = "the ticket was closed after this event while it was being recorded"
        return Outcome(RequestStatus.IGNORED, 200, {"kind": "ignored", "reason": reason}, target.app_id)
    await _due(api, target.app_id, now)
    facts = {
        "kind": "grant",
        "app": target.app_id,
        "principal": user.id,
        "role": role,
        "grant": stored.grant_id,
        "starts": starts.isoformat(),
        "ends": ends.isoformat() if ends else None,
    }
    return Outcome(RequestStatus.PENDING, 202, facts, target.app_id)


async def _open(api: ApiServices, grant: Grant, happened: datetime) -> Grant | None:
    """Create the grant; when this ticket's grant already exists, reopen it if it was closed, unless
    it was closed (by the ticket or an operator) at or after `happened` (then None: the decision is
    stale)."""
    grants = api.engine.store.grants
    try:
        return await grants.create(grant)
    except AlreadyExistsError:
        existing = await grants.get(grant.app_id, grant.grant_id)
    if existing.status is GrantStatus.OPEN:
        return existing
    # Closed at or after this event, by the ticket or by an operator: a stale approval never reopens it
    if existing.closed_at is not None and happened <= existing.closed_at:
        return None
    return await grants.update(replace(grant, etag=existing.etag))


def _close_reason(system: str, number: str) -> str:
    return f"ticket {system}:{number} closed"


async def _revoke(
    api: ApiServices, source: str, d: RevokeEligibility, now: datetime, closed_at: datetime
) -> Outcome:
    app_id = await rules.revocable_app(api, d.app)
    store = api.engine.store
    user = await _known_user(api, d.user)  # releasing is always safe: protected principals too
    # Remembered first, grant or not: an approval of this ticket older than the close, delivered
    # later (a retry, a reordering sender), must not grant.
    ticket = f"{d.ticket.system}:{d.ticket.number}"
    await store.ticket_closes.record(
        app_id, close_key(source, d.ticket.system, d.ticket.number), closed_at, ticket
    )
    wanted = {d.user.lower()} | ({user.id.lower(), user.user_principal_name.lower()} if user else set())
    open_grants = [
        g
        for g in await store.grants.list_open(app_id)
        if g.principal_id.lower() in wanted or (g.principal_upn or "").lower() in wanted
    ]
    mine = [
        g for g in open_grants
        if _same_ticket(g, d.ticket.system, d.ticket.number) and g.source == f"ticket:{source}"
    ]
    if not mine:
        reason = "no open grant of this source for this ticket; the close is remembered"
        return Outcome(RequestStatus.IGNORED, 200, {"kind": "ignored", "reason": reason}, app_id)
    for grant in mine:
        reason = _close_reason(grant.ticket_system or "", grant.ticket_number or "")
        await store.grants.close(grant, reason, closed_at)
    await _due(api, app_id, now)
    others = sorted({f"{g.ticket_system}:{g.ticket_number}" for g in open_grants if g not in mine})
    facts = {
        "kind": "revoke",
        "app": app_id,
        "principal": mine[0].principal_id,
        "grants": [g.grant_id for g in mine],
        "still_covered_by": others,
    }
    return Outcome(RequestStatus.PENDING, 202, facts, app_id)


async def _known_user(api: ApiServices, user: str) -> DirectoryUser | None:
    """The user if the directory still has them (a revoke must work for a deleted user too).

    Only "not found" means gone (get_user answers None); a throttled or failing directory propagates,
    so a grant recorded under the object id is never missed for a revoke that named the UPN."""
    return await api.engine.graph.get_user(user)


def _same_ticket(grant: Grant, system: str, number: str) -> bool:
    return (grant.ticket_system or "").lower() == system.lower() and (grant.ticket_number or "").lower() == (
        number.lower()
    )


async def _register(api: ApiServices, source: str, d: RegisterApp, now: datetime) -> Outcome:
    rules.source_may_register(api, source)
    return await register_app(
        api, d.app, d.profile, f"ticket:{d.ticket.system}:{d.ticket.number}", d.reason, now
    )


async def register_app(
    api: ApiServices, app: str, profile: str, by: str, reason: str, now: datetime
) -> Outcome:
    """Register `app` under `profile` (or change its profile); the app must exist in the directory."""
    rules.profile_named(api, profile)
    app = await rules.resolve_app(api, app)
    sp = await api.engine.graph.get_service_principal(ServicePrincipalId(app)) if is_guid(app) else None
    if sp is None:
        raise Refusal(422, "app_not_found", "no service principal with this object id or appId")
    await rules.manageable(api, sp, by, now)
    repo, app = api.engine.store.registrations, app.lower()
    existing = await repo.find(app)
    wanted = Registration(app, profile, by, now, reason)
    await repo.put(replace(wanted, etag=existing.etag) if existing else wanted)
    await _due(api, app, now)
    return Outcome(RequestStatus.PENDING, 202, {"kind": "register", "app": app, "profile": profile}, app)


async def _deregister(api: ApiServices, source: str, d: DeregisterApp, now: datetime) -> Outcome:
    rules.source_may_register(api, source)
    return await deregister_app(api, d.app, now)


async def deregister_app(api: ApiServices, app: str, now: datetime) -> Outcome:
    """Remove the explicit registration of `app` (ignored when there is none)."""
    repo = api.engine.store.registrations
    app = await rules.resolve_app(api, app)
    if not is_guid(app) or await repo.find(app.lower()) is None:
        return Outcome(RequestStatus.IGNORED, 200, {"kind": "ignored", "reason": "the app is not registered"})
    await repo.delete(app.lower())
    await _due(api, app.lower(), now)
    return Outcome(RequestStatus.PENDING, 202, {"kind": "deregister", "app": app.lower()}, app.lower())


async def _due(api: ApiServices, app_id: str, now: datetime) -> None:
    await DueSchedule(api.engine.store.cursors).update(now, set_due={app_id: now})
