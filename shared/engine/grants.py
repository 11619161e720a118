"""Eligibility grants: the stored record <-> the domain's EligibilityGrant, and recording/closing them.

`record_grant` / `close_grants` are what the operator CLI (and, later, ticket intake) call: they store
the desired change and mark the app due, so the next tick (or an immediate re-sync) makes PIM match.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.domain.ids import AppRoleId, GrantId, PrincipalId
from shared.domain.model import EligibilityGrant, TicketInfo
from shared.engine.schedule import DueSchedule
from shared.storage import DEFAULT_APP_ROLE_ID, Grant, GrantStatus, StateStore


def to_domain(grant: Grant) -> EligibilityGrant:
    """The planner's view of a stored grant."""
    ticket = None
    if grant.ticket_system and grant.ticket_number:
        ticket = TicketInfo(grant.ticket_system, grant.ticket_number)
    return EligibilityGrant(
        grant_id=GrantId(grant.grant_id),
        principal_id=PrincipalId(grant.principal_id),
        app_role_id=AppRoleId(grant.role),
        starts=grant.starts,
        ends=grant.ends,
        justification=grant.justification,
        ticket=ticket,
        source=grant.source,
        revoked_at=grant.closed_at if grant.status is GrantStatus.CLOSED else None,
    )


@dataclass(frozen=True)
class GrantRequest:
    """A new grant as an operator or a ticket asks for it."""

    app_id: str
    principal_id: str
    starts: datetime
    ends: datetime | None
    justification: str
    ticket: TicketInfo | None = None
    role: str = DEFAULT_APP_ROLE_ID
    source: str = "operator"
    principal_upn: str | None = None


async def record_grant(store: StateStore, request: GrantRequest, now: datetime) -> Grant:
    """Store an open grant and mark its app due now."""
    grant = await store.grants.create(Grant(
        app_id=request.app_id, grant_id=uuid.uuid4().hex, principal_id=request.principal_id,
        starts=request.starts, ends=request.ends, principal_upn=request.principal_upn, role=request.role,
        justification=request.justification,
        ticket_system=request.ticket.system if request.ticket else None,
        ticket_number=request.ticket.number if request.ticket else None, source=request.source))
    await DueSchedule(store.cursors).update(now, set_due={request.app_id: now})
    return grant


async def close_grants(
    store: StateStore, app_id: str, principal_id: str, reason: str, now: datetime, *,
    grant_id: str | None = None,
) -> list[Grant]:
    """Close the principal's open grants on the app (or just `grant_id`); marks the app due now."""
    open_grants = await store.grants.list_open(app_id, principal_id)
    chosen = [g for g in open_grants if grant_id is None or g.grant_id == grant_id]
    closed = [await store.grants.close(g, reason, now) for g in chosen]
    if closed:
        await DueSchedule(store.cursors).update(now, set_due={app_id: now})
    return closed
