"""The audit log: append-only, one entity per change, cheap to read per app and month.

PartitionKey is `{app_id}:{YYYY-MM}` (UTC month of the event), so one app's events for a month are
one partition query. RowKey is `{YYYYMMDDTHHMMSSffffff}Z-{sequence}-{random}`: it sorts by event time,
then by append order within this process, and the random part keeps two processes appending in the
same microsecond from colliding.

An engine write is recorded as an INTENT before it is sent: a row with outcome `pending` whose id is
deterministic (`{YYYYMMDDTHHMMSSffffff}Z-{digest}` of the reconcile's start and the action), so a
retried store finds the same row. The row is completed once with its outcome (`CompletedAt` set);
a row a crash left pending is found with `pending()` and completed by the next run. Rows are never
changed otherwise. Rows of one partition are written together in entity-group transactions.

Oversized values are TRUNCATED, not split and not rejected: an audit entry must be written even
when a `before`/`after` document is huge. A truncated property ends with a
"...[truncated by PIM Warden; original N bytes]" marker, and the entry's `truncated` field names
every property that was cut, so a reader never mistakes a cut document for a whole one.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.storage import codec
from shared.storage.limits import escape_key, fit_text, to_json
from shared.storage.tables import EntityTable, StoredEntity

PENDING = "pending"  # outcome of an intent whose write has not been confirmed yet
PENDING_LOOKBACK = timedelta(days=7)
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
    completed: datetime | None = None  # when an intent got its outcome (None for plain events)
    resolution: str = ""  # how a later run decided the outcome of an intent a crash left pending


def audit_partition(app_id: str, when: datetime) -> str:
    """The partition holding `app_id`'s events for the month of `when`."""
    return f"{app_id}:{when.astimezone(UTC):%Y-%m}"


def _row_prefix(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y%m%dT%H%M%S%f}Z"


def new_event_id(when: datetime) -> str:
    """A RowKey sorting by time, then append order, unique across processes."""
    return f"{_row_prefix(when)}-{next(_SEQUENCE):012d}-{secrets.token_hex(4)}"


def intent_id(when: datetime, index: int, key: str) -> str:
    """The deterministic id of a reconcile's row: sorts by `when`, then `index` (plan order); unique per
    `key` (app, plan, action)."""
    return f"{_row_prefix(when)}-{index:04d}-{hashlib.sha256(key.encode()).hexdigest()[:20]}"


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

    async def record(self, events: Sequence[AuditEvent]) -> list[AuditEvent]:
        """Store events under their own ids (`event_id` set: an intent, a drift finding), one
        transaction per partition; storing the same events again changes nothing."""
        by_partition: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
        stored = []
        for event in events:
            if not event.event_id:
                raise ValueError("record() needs events with their ids; append() assigns one")
            props, cut = _properties(event)
            by_partition[audit_partition(event.app_id, codec.aware(event.when, "when"))].append(
                ("upsert", event.event_id, props))
            stored.append(replace(event, truncated=cut))
        for partition, writes in by_partition.items():
            await self._table.transact(partition, writes)
        return stored

    async def complete(
        self, done: Sequence[tuple[AuditEvent, str, str | None]], when: datetime, *, resolution: str = "",
    ) -> None:
        """Give intents their outcome (and, when not None, a new `after` document): one transaction
        per partition. `resolution` says how a later run decided it (empty: the writer knew)."""
        by_partition: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
        for event, outcome, after in done:
            props: dict[str, Any] = {"Outcome": fit_text(outcome)[0], "CompletedAt": codec.aware(when, "at")}
            if after is not None:
                props["After"] = fit_text(after)[0]
            if resolution:
                props["Resolution"] = fit_text(resolution)[0]
            by_partition[audit_partition(event.app_id, event.when)].append(("merge", event.event_id, props))
        for partition, writes in by_partition.items():
            await self._table.transact(partition, writes)

    async def pending(self, app_id: str, now: datetime) -> list[AuditEvent]:
        """`app_id`'s intents still pending from the last week, oldest first: one filtered query of
        the app's month partition (two in a month's first week). An app is looked at again at least
        once per full audit (a day by default), so the week is a wide margin."""
        now = codec.aware(now, "now").astimezone(UTC)
        found: list[AuditEvent] = []
        for month in _months(now - PENDING_LOOKBACK, now):
            where = "PartitionKey eq @pk and Outcome eq @outcome"
            rows = await self._table.query(where, {"pk": escape_key(f"{app_id}:{month}"), "outcome": PENDING})
            found += [_from_stored(app_id, s) for s in rows]
        return sorted(found, key=lambda e: e.event_id)

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
        completed=codec.utc(p.get("CompletedAt")),
        resolution=str(p.get("Resolution", "")),
    )
