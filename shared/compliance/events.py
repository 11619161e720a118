"""The compliance event: one row of the audit trail, with fixed, documented columns.

PIM's own request history, PIM's directory audit entries and PIM Warden's audit rows all become
`ComplianceEvent`s, so an auditor reads one timeline. Every event carries where it came from
(`source`, `source_id`), and `event_id` is a hash of (source, source id, kind): mapping the same
Graph object twice gives the same id, which is what makes re-ingest idempotent. A request that moves
from PendingApproval to Provisioned yields two kinds, hence two events, each exactly once.
See docs/compliance.md for the column meanings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final


class EventKind(StrEnum):
    """What happened. Values are the `event` column; documented in docs/compliance.md."""

    ELIGIBILITY_GRANTED = "eligibility_granted"
    ELIGIBILITY_EXTENDED = "eligibility_extended"
    ELIGIBILITY_REMOVED = "eligibility_removed"
    ELIGIBILITY_EXPIRED = "eligibility_expired"
    ASSIGNMENT_GRANTED = "assignment_granted"
    ASSIGNMENT_EXTENDED = "assignment_extended"
    ASSIGNMENT_REMOVED = "assignment_removed"
    ASSIGNMENT_EXPIRED = "assignment_expired"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_GRANTED = "approval_granted"
    APPROVAL_DENIED = "approval_denied"
    APPROVAL_EXPIRED = "approval_expired"
    ACTIVATED = "activated"
    ACTIVATION_DENIED = "activation_denied"
    ACTIVATION_CANCELED = "activation_canceled"
    ACTIVATION_FAILED = "activation_failed"
    DEACTIVATED = "deactivated"
    ACTIVATION_EXPIRED = "activation_expired"
    POLICY_DRIFT_REPAIRED = "policy_drift_repaired"
    DIRECT_ASSIGNMENT_REMOVED = "direct_assignment_removed"
    BYPASS_MEMBER_REMOVED = "bypass_member_removed"


class Cause(StrEnum):
    """Who made it happen: PIM (users, approvers, admins, schedules) or PIM Warden itself."""

    PIM = "pim"
    PIM_WARDEN = "pim_warden"


class Source(StrEnum):
    """Where the event was read; with `source_id` it identifies the fact for de-duplication."""

    ASSIGNMENT_REQUEST = "graph_assignment_request"
    ELIGIBILITY_REQUEST = "graph_eligibility_request"
    DIRECTORY_AUDIT = "graph_directory_audit"
    SCHEDULE_END = "schedule_end"
    WARDEN_AUDIT = "warden_audit"


COLUMNS: Final[tuple[str, ...]] = (
    "time", "event", "app_id", "app_name", "group_id", "user_id", "user_upn",
    "start", "end", "duration", "justification", "ticket_system", "ticket_number",
    "approver", "cause", "trigger", "detail", "source", "source_id", "event_id",
)
"""Report column order: fixed; append new columns at the end only."""


@dataclass(frozen=True)
class AppRef:
    """The app an event belongs to: stable app (client) id and its display name."""

    app_id: str
    app_name: str


@dataclass(frozen=True)
class ComplianceEvent:
    """One row of the trail. Times are timezone-aware UTC; `duration` is ISO-8601 (`PT2H`)."""

    time: datetime
    event: EventKind
    app_id: str
    app_name: str
    group_id: str
    user_id: str | None
    user_upn: str | None
    source: Source
    source_id: str
    cause: Cause
    trigger: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    duration: str | None = None
    justification: str | None = None
    ticket_system: str | None = None
    ticket_number: str | None = None
    approver: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        for name in ("time", "start", "end"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"ComplianceEvent.{name} must be timezone-aware, got {value!r}")

    @property
    def event_id(self) -> str:
        """Stable identity: the same fact read twice has the same id."""
        return event_id(self.source, self.source_id, self.event)

    @property
    def month(self) -> str:
        """UTC month of `time` as `YYYY-MM` (the storage partition and retention unit)."""
        return month_of(self.time)

    def to_record(self) -> dict[str, str | None]:
        """The event as report columns, in `COLUMNS` order; times as ISO-8601 UTC text."""
        return dict(zip(COLUMNS, self.values(), strict=True))

    def values(self) -> tuple[str | None, ...]:
        """The column values as text, in `COLUMNS` order (what a CSV row holds)."""
        return tuple(_text(getattr(self, name)) for name in COLUMNS)


def event_id(source: str, source_id: str, kind: str) -> str:
    """Hash of (source, source id, kind): 32 hex digits, safe as a Table Storage RowKey part."""
    raw = "\x1f".join((str(source), str(source_id), str(kind))).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:32]


def format_time(value: datetime) -> str:
    """ISO-8601 UTC with a `Z` suffix; microseconds only when present."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat().removesuffix("+00:00") + "Z"


def month_of(value: datetime) -> str:
    """`YYYY-MM` of a timezone-aware time, in UTC."""
    return f"{value.astimezone(UTC):%Y-%m}"


def partition_key(app_id: str, when: datetime) -> str:
    """`{app_id}:{YYYY-MM}`: one app's events for one month are one partition query."""
    return f"{app_id}:{month_of(when)}"


def _text(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    if isinstance(value, datetime):
        return format_time(value)
    return str(value)
