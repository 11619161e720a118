"""What a ticket asks PIM Warden to do, once its source's dialect has been translated.

Adapters produce exactly one of these per event; intake records it as a desired change and the
reconciler does the rest. A decision says *what* is wanted, never *how*: guardrails (is the app
managed, is the duration within the profile, is the principal allowed) are checked later, against
stored state, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Ticket:
    """The ticket behind a change: its system (`servicenow`, `jira`, ...) and its number."""

    system: str
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantEligibility:
    """Make `user` eligible for `app` (PIM for Groups membership, never active).

    `user` is an object id or a UPN as the ticket gave it; `app` a service principal object id or
    an appId. `duration` None means "as long as the app's profile allows" (permanent only where the
    profile allows it). `starts` None means now.
    """

    user: str
    app: str
    ticket: Ticket
    justification: str
    duration: timedelta | None = None
    starts: datetime | None = None
    app_role: str | None = None
    requested_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeEligibility:
    """Withdraw the grant this ticket made; eligibility ends only if no other open grant covers it."""

    user: str
    app: str
    ticket: Ticket


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterApp:
    """Register `app` as high-value under policy `profile`."""

    app: str
    profile: str
    ticket: Ticket
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeregisterApp:
    """Remove an explicit registration of `app`."""

    app: str
    ticket: Ticket
    reason: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """An authentic event that asks for nothing (e.g. an update that does not change status)."""

    reason: str


Decision = GrantEligibility | RevokeEligibility | RegisterApp | DeregisterApp | Ignored
DECISION_TYPES: tuple[type, ...] = (GrantEligibility, RevokeEligibility, RegisterApp, DeregisterApp, Ignored)
