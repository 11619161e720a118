"""The audit log: append-only, one entity per change, cheap to read per app and month.

PartitionKey is `{app_id}:{YYYY-MM}` (UTC month of the event), so one app's events for a month are
one partition query. RowKey is `{YYYYMMDDTHHMMSSffffff}Z-{sequence}-{random}`: it sorts by event time,
then by append order within this process, and the random part keeps two processes appending in the
same microsecond from colliding. Entries are never updated.

Oversized values are TRUNCATED, not split and not rejected: an audit entry must be written even
when a `before`/`after` document is huge. A truncated property ends with a
"...[truncated by PIM Warden; original N bytes]" marker, and the entry's `truncated` field names
every property that was cut, so a reader never mistakes a cut document for a whole one.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from shared.storage import codec
from shared.storage.limits import fit_text, to_json
from shared.storage.tables import EntityTable, StoredEntity

TENANT_SCOPE = "_tenant"  # app_id for events that concern no single app (e.g. discovery)
_SEQUENCE = itertools.count()


@dataclass(frozen=True)
class AuditEvent:
    """One recorded change. `before`/`after` are JSON text (or None); `event_id` is the RowKey."""

    when: datetime
    app_id: str
    action: str  # past tense event name, e.g. "PolicyRuleCorrected"
    cause: str  # "timer", "ticket:JIRA-12", "operator:alice@contoso.com"
    actor: str = "pimwarden"
    target: str = ""
    before: str | None = None
    after: str | None = None
    outcome: str = "succeeded"
    detail: str = ""
    truncated: tuple[str, ...] = ()
    event_id: str = ""
    etag: str | None = None


def audit_partition(app_id: str, when: datetime) -> str:
    """The partition holding `app_id`'s events for the month of `when`."""
    return f"{app_id}:{when.astimezone(UTC):%Y-%m}"


def _row_prefix(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y%m%dT%H%M%S%f}Z"


def new_event_id(when: datetime) -> str:
    """A RowKey sorting by time, then append order, unique across processes."""
    return f"{_row_prefix(when)}-{next(_SEQUENCE):012d}-{secrets.token_hex(4)}"


def json_or_none(document: Any) -> str | None:
    """Serialise a before/after document deterministically; None stays None."""
    return None if document is None else to_json(document)


class AuditLog:
    """Appends and reads audit events."""

    def __init__(self, table: EntityTable) -> None:
        self._table = table

    async def append(self, event: AuditEvent) -> AuditEvent:
        """Store a new event and return it with its event id (RowKey), truncations and etag."""
        when = codec.aware(event.when, "when")
        props, cut = _properties(event)
        event_id = new_event_id(when)
        etag = await self._table.create(audit_partition(event.app_id, when), event_id, props)
        return replace(_from_properties(event.app_id, event_id, props, etag), truncated=cut)

    async def query(self, app_id: str, start: datetime, end: datetime) -> list[AuditEvent]:
        """Events of `app_id` with start <= when < end, oldest first (one partition query per month)."""
        start, end = codec.aware(start, "start"), codec.aware(end, "end")
        events: list[AuditEvent] = []
        for month in _months(start, end):
            found = await self._table.partition(
                f"{app_id}:{month}", row_from=_row_prefix(start), row_before=_row_prefix(end))
            events += [_from_stored(app_id, s) for s in found]
        return sorted(events, key=lambda e: e.event_id)


def _months(start: datetime, end: datetime) -> list[str]:
    year, month = start.astimezone(UTC).year, start.astimezone(UTC).month
    last = end.astimezone(UTC)
    months = []
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _properties(event: AuditEvent) -> tuple[dict[str, Any], tuple[str, ...]]:
    values = {
        "Cause": event.cause, "Actor": event.actor, "Target": event.target, "Action": event.action,
        "Before": event.before, "After": event.after, "Outcome": event.outcome, "Detail": event.detail,
    }
    props: dict[str, Any] = {"When": event.when}
    cut = []
    for name, value in values.items():
        if value is not None:
            props[name], was_cut = fit_text(value)
            if was_cut:
                cut.append(name)
    if cut:
        props["Truncated"] = ",".join(cut)
    return props, tuple(cut)


def _from_stored(app_id: str, s: StoredEntity) -> AuditEvent:
    return _from_properties(app_id, s.row_key, s.properties, s.etag)


def _from_properties(app_id: str, event_id: str, p: Any, etag: str) -> AuditEvent:
    truncated = str(p.get("Truncated", ""))
    return AuditEvent(
        when=codec.require_utc(p.get("When")),
        app_id=app_id,
        action=str(p.get("Action", "")),
        cause=str(p.get("Cause", "")),
        actor=str(p.get("Actor", "")),
        target=str(p.get("Target", "")),
        before=codec.optional_str(p.get("Before")),
        after=codec.optional_str(p.get("After")),
        outcome=str(p.get("Outcome", "")),
        detail=str(p.get("Detail", "")),
        truncated=tuple(truncated.split(",")) if truncated else (),
        event_id=event_id,
        etag=etag,
    )
