"""The collector: per managed app, read what happened since its cursor, map it, store it once.

The pure core decides (ingest.py: window, de-duplication, where the cursor may go; mapping.py,
warden_audit.py, expiry.py: what each record means); this module only fetches and stores:

- per app a cursor (`compliance:{app_id}`) holds the last window end and the eligibility instances
  seen then (expiry needs "before": an instance that ran out has vanished from Graph by the next run);
- PIM's directory audit is read ONCE per run for all apps (Graph allows 5 audit queries per 10 s),
  from the earliest app window start, and each app takes the entries that target its groups;
- events are inserted oldest first with deterministic keys; the cursor moves only after every event
  of the app's batch is stored, so a crash mid-ingest loses nothing and a re-run writes nothing twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.compliance import graph_values as gv
from shared.compliance.events import AppRef, ComplianceEvent, format_time
from shared.compliance.expiry import ScheduleInstance, expiries, instance_from_graph
from shared.compliance.ingest import (
    DEFAULT_FIRST_LOOKBACK,
    DEFAULT_OVERLAP,
    Window,
    in_window,
    plan_batch,
    query_window,
)
from shared.compliance.mapping import (
    MappingContext,
    map_assignment_request,
    map_directory_audit,
    map_eligibility_request,
    request_changed_at,
)
from shared.compliance.warden_audit import map_warden_audit
from shared.storage import AppStatus, AuditEvent, Cursor, ManagedApp, StateStore
from shared.telemetry.compliance import collector_lag

Json = dict[str, Any]
CURSOR_PREFIX = "compliance:"
_ENGINE_SUCCESS = {"applied": "succeeded"}  # the engine records applied actions as "applied"


class ComplianceGraph(Protocol):
    """The raw Graph reads the collector needs (shared.graph.compliance_reads.ComplianceReads)."""

    async def assignment_requests(self, group_id: str) -> list[Json]: ...
    async def eligibility_requests(self, group_id: str) -> list[Json]: ...
    async def eligibility_instances(self, group_id: str) -> list[Json]: ...
    async def pim_audits(self, since: datetime, until: datetime) -> list[Json]: ...


class EventSink(Protocol):
    """Where events go (shared.storage.events.EventRepo)."""

    async def insert(self, event: ComplianceEvent) -> bool: ...
    async def seen_ids(self, app_id: str, months: Collection[str]) -> set[str]: ...


@dataclass(frozen=True)
class CollectConfig:
    """Overlap for late audit entries, first-run lookback, and PIM Warden's own principal ids."""

    overlap: timedelta = DEFAULT_OVERLAP
    first_lookback: timedelta = DEFAULT_FIRST_LOOKBACK
    warden_principal_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AppCollected:
    """What one app's ingest did: events stored, the cursor after it, or the error that stopped it."""

    app_id: str
    stored: int = 0
    cursor: datetime | None = None
    error: str | None = None


@dataclass
class CollectSummary:
    """One run over every managed app."""

    apps: list[AppCollected] = field(default_factory=list)
    audit_queries: int = 0

    @property
    def failed(self) -> list[AppCollected]:
        return [a for a in self.apps if a.error]

    def line(self) -> str:
        """The one-line summary the timer logs."""
        stored = sum(a.stored for a in self.apps)
        return (f"collect apps={len(self.apps)} stored={stored} failed={len(self.failed)} "
                f"audit_queries={self.audit_queries}")


@dataclass(frozen=True)
class CursorState:
    """The stored cursor: last window end and the eligibility instances seen then."""

    at: datetime | None
    instances: tuple[ScheduleInstance, ...] = ()
    etag: str | None = None


async def collect(
    graph: ComplianceGraph, sink: EventSink, store: StateStore, now: datetime, config: CollectConfig,
) -> CollectSummary:
    """Ingest every managed app's new events; an app that fails keeps its cursor, the others go on."""
    apps = [a for a in await store.apps.list(status=AppStatus.MANAGED) if a.role_groups]
    states = {a.app_id: await read_cursor(store, a.app_id) for a in apps}
    windows = {a.app_id: query_window(states[a.app_id].at, now, overlap=config.overlap,
                                      first_lookback=config.first_lookback) for a in apps}
    summary = CollectSummary()
    if not apps:
        return summary
    audits = await graph.pim_audits(min(w.start for w in windows.values()), now)
    summary.audit_queries = 1
    for app in apps:
        try:
            summary.apps.append(await collect_app(
                graph, sink, store, app, windows[app.app_id], states[app.app_id], audits, now, config))
        except Exception as error:  # one app's failure must not stop the others; reported, cursor kept
            summary.apps.append(AppCollected(app.app_id, error=f"{type(error).__name__}: {error}"))
    collector_lag(now, [c.cursor or states[c.app_id].at for c in summary.apps])
    return summary


async def collect_app(
    graph: ComplianceGraph, sink: EventSink, store: StateStore, app: ManagedApp, window: Window,
    state: CursorState, audits: list[Json], now: datetime, config: CollectConfig,
) -> AppCollected:
    """Fetch, map, de-duplicate and store one app's events, then move its cursor."""
    groups = sorted(set(app.role_groups.values()))
    fetched = await asyncio.gather(*(_fetch_group(graph, g) for g in groups))
    assignment = [r for f in fetched for r in f[0]]
    eligibility = [r for f in fetched for r in f[1]]
    current = [i for f in fetched for i in f[2]]
    ctx = MappingContext(AppRef(app.app_id, app.display_name), groups[0], _upns(assignment, eligibility),
                         config.warden_principal_ids)
    requests = _request_events(assignment, eligibility, ctx)
    events = _request_events(in_window(assignment, window, request_changed_at),
                             in_window(eligibility, window, request_changed_at), ctx)
    events += _audit_events(audits, set(groups), window, ctx)
    rows = await store.audit.query(app.app_id, window.start, _after(window.end))
    events += _warden_events(rows, ctx, groups)
    events += expiries(state.instances, current, now, ctx, ended_early=requests)
    seen = await sink.seen_ids(app.app_id, {e.month for e in events})
    batch = plan_batch(window, state.at, events, lambda event_id: event_id in seen)
    stored: set[str] = set()
    for event in batch.events:
        await sink.insert(event)
        stored.add(event.event_id)
    cursor = batch.cursor_after(stored)
    await write_cursor(store, app.app_id, CursorState(cursor, tuple(current), state.etag), now)
    return AppCollected(app.app_id, len(batch.events), cursor)


async def _fetch_group(graph: ComplianceGraph, group_id: str) -> tuple[list[Json], list[Json], list[Any]]:
    assignment, eligibility, instances = await asyncio.gather(
        graph.assignment_requests(group_id), graph.eligibility_requests(group_id),
        graph.eligibility_instances(group_id))
    parsed = [instance_from_graph(i, eligibility=True) for i in instances]
    return assignment, eligibility, [i for i in parsed if i is not None]


def _request_events(
    assignment: list[Json], eligibility: list[Json], ctx: MappingContext
) -> list[ComplianceEvent]:
    mapped = [map_assignment_request(r, ctx) for r in assignment]
    mapped += [map_eligibility_request(r, ctx) for r in eligibility]
    return [e for e in mapped if e is not None]


def _audit_events(
    audits: list[Json], groups: set[str], window: Window, ctx: MappingContext
) -> list[ComplianceEvent]:
    mapped = (map_directory_audit(e, ctx) for e in in_window(audits, window, _audit_time))
    return [e for e in mapped if e is not None and e.group_id in groups]


def _warden_events(
    rows: Iterable[AuditEvent], ctx: MappingContext, groups: list[str]
) -> list[ComplianceEvent]:
    mapped = (map_warden_audit(_warden_row(row, groups), ctx) for row in rows)
    return [e for e in mapped if e is not None]


def _warden_row(row: AuditEvent, groups: list[str]) -> dict[str, Any]:
    """An engine audit row as the mapper's keys; its group from the target when it names one."""
    group = next((g for g in groups if row.target.startswith(g)), None)
    outcome = _ENGINE_SUCCESS.get(row.outcome.lower(), row.outcome)
    return {"when": row.when, "cause": row.cause, "app_id": row.app_id, "target": row.target,
            "action": row.action, "before": row.before, "after": row.after, "outcome": outcome,
            "detail": row.detail, "id": row.event_id, "group_id": group}


def _audit_time(entry: Json) -> datetime | None:
    return gv.time_at(entry, "activityDateTime")


def _upns(*request_lists: list[Json]) -> dict[str, str]:
    found: dict[str, str] = {}
    for requests in request_lists:
        for r in requests:
            principal, upn = gv.text(r, "principalId"), gv.text(r, "principal", "userPrincipalName")
            if principal and upn:
                found[principal] = upn
    return found


def _after(moment: datetime) -> datetime:
    """AuditLog.query's end is exclusive; the window's end is inclusive."""
    return moment + timedelta(microseconds=1)


async def read_cursor(store: StateStore, app_id: str) -> CursorState:
    """The app's collector cursor (None position on the first run)."""
    cursor = await store.cursors.find(CURSOR_PREFIX + app_id)
    if cursor is None:
        return CursorState(None)
    data = json.loads(cursor.value)
    at = gv.parse_time(data.get("at"))
    instances = tuple(
        ScheduleInstance(p, g, gv.parse_time(s), gv.parse_time(e)) for g, p, s, e in data["seen"])
    return CursorState(at, instances, cursor.etag)


async def write_cursor(store: StateStore, app_id: str, state: CursorState, now: datetime) -> None:
    """Store the cursor (conditional on the etag read: two collectors cannot both advance it)."""
    seen = [[i.group_id, i.principal_id, _text(i.start), _text(i.end)] for i in state.instances]
    value = json.dumps({"at": _text(state.at), "seen": seen}, separators=(",", ":"))
    await store.cursors.put(Cursor(CURSOR_PREFIX + app_id, value, now, state.etag))


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)
