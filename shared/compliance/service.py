"""Compliance services: what the timers, the HTTP endpoints and the CLI call (collect, retention,
report, evidence, findings), over one small container built from the engine's services.

Reports never hold more than one storage page: the CLI streams a whole range line by line
(`report_lines`); HTTP answers one bounded page per request with a continuation token
(`report_page`), because azure-functions 1.26 sends an HTTP response as one whole body.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from shared.clock import Clock
from shared.compliance import graph_values as gv
from shared.compliance.collector import CollectConfig, CollectSummary, collect
from shared.compliance.events import AppRef, ComplianceEvent, EventKind
from shared.compliance.evidence import (
    DRIFT_KINDS,
    AppEvidence,
    LastEnforcement,
    PolicyDifference,
    build_evidence,
)
from shared.compliance.expiry import ScheduleInstance, instance_from_graph
from shared.compliance.findings import (
    AppState,
    DirectAssignment,
    Finding,
    Membership,
    ProfileRequirements,
    compute_findings,
)
from shared.compliance.report import iter_csv, iter_jsonl
from shared.compliance.retention import DEFAULT_RETENTION_DAYS
from shared.domain.durations import parse_duration
from shared.domain.ids import GroupId
from shared.domain.profiles import Profile
from shared.domain.rules import desired_rules, diff_rules, summarize_rule
from shared.engine.config import principal_ids
from shared.engine.services import Services
from shared.graph.base import GraphBase
from shared.graph.compliance_reads import ComplianceReads
from shared.settings import SettingsError, SettingsReader
from shared.storage import StateStore
from shared.storage.events import EventRepo, Position

MAX_PAGE_SIZE: Final = 10_000


class ReportFormat(StrEnum):
    """`json` is JSON Lines (docs/schemas/report-event.schema.json); `csv` is RFC 4180."""

    JSON = "json"
    CSV = "csv"

    @property
    def media_type(self) -> str:
        return "application/x-ndjson" if self is ReportFormat.JSON else "text/csv"


@dataclass(frozen=True)
class ComplianceConfig:
    """The compliance trail's settings (README "Compliance trail")."""

    collect_schedule: str = "0 */15 * * * *"
    retention_schedule: str = "0 0 2 * * *"
    retention_days: int = DEFAULT_RETENTION_DAYS
    lapse_window_days: int = 14
    overlap_minutes: int = 15
    report_page_size: int = 5000
    history_days: int = 90
    warden_principal_ids: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ComplianceConfig:
        """Read and validate; SettingsError naming every bad setting."""
        r = SettingsReader(env)
        config = cls(
            collect_schedule=r.text("PIMWARDEN_COLLECT_SCHEDULE", "0 */15 * * * *", _six_fields) or "",
            retention_schedule=r.text("PIMWARDEN_RETENTION_SCHEDULE", "0 0 2 * * *", _six_fields) or "",
            retention_days=r.integer("PIMWARDEN_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, minimum=1) or 1,
            lapse_window_days=r.integer("PIMWARDEN_LAPSE_WINDOW_DAYS", 14, minimum=0) or 0,
            overlap_minutes=r.integer("PIMWARDEN_COLLECT_OVERLAP_MINUTES", 15, minimum=0) or 0,
            report_page_size=min(r.integer("PIMWARDEN_REPORT_PAGE_SIZE", 5000, minimum=1) or 1,
                                 MAX_PAGE_SIZE),
            history_days=r.integer("PIMWARDEN_EVIDENCE_HISTORY_DAYS", 90, minimum=1) or 1,
            warden_principal_ids=frozenset(principal_ids(r, "PIMWARDEN_SERVICE_PRINCIPAL_ID")),
        )
        r.raise_if_problems(SettingsError)
        return config

    def collect_config(self) -> CollectConfig:
        """The collector's part."""
        return CollectConfig(overlap=timedelta(minutes=self.overlap_minutes),
                             warden_principal_ids=self.warden_principal_ids)


@dataclass
class ComplianceServices:
    """What the compliance functions and commands need."""

    engine: Services
    events: EventRepo
    reads: ComplianceReads
    config: ComplianceConfig

    @property
    def store(self) -> StateStore:
        return self.engine.store

    @property
    def clock(self) -> Clock:
        return self.engine.clock


def build_compliance(
    engine: Services, env: Mapping[str, str], events: EventRepo | None = None
) -> ComplianceServices:
    """The container over the engine's services (its store, Graph client and clock)."""
    if not isinstance(engine.graph, GraphBase):
        raise TypeError("compliance reads need the msgraph-sdk gateway (GraphBase)")
    store = engine.store
    # The events table lives in the store's account, next to the others (StateStore has no public client).
    repo = events or store.events
    reads = ComplianceReads.sharing(engine.graph)
    return ComplianceServices(engine, repo, reads, ComplianceConfig.from_env(env))


async def run_collect(services: ComplianceServices) -> CollectSummary:
    """One collector run over every managed app."""
    now = services.clock.now()
    return await collect(services.reads, services.events, services.store, now,
                         services.config.collect_config())


async def run_retention(services: ComplianceServices) -> int:
    """Delete events older than the retention period, for every app PIM Warden knows; returns the count."""
    now, days = services.clock.now(), services.config.retention_days
    apps = await services.store.apps.list()
    return sum([await services.events.purge(app.app_id, now, days) for app in apps])


async def report_lines(
    services: ComplianceServices, app_id: str, start: datetime, end: datetime, fmt: ReportFormat,
) -> AsyncIterator[str]:
    """The whole report for [start, end), line by line, one storage page in memory at a time."""
    first = True
    async for page in services.events.pages(app_id, start, end):
        for line in _lines(page.events, fmt, header=first):
            yield line
        first = False
    if first and fmt is ReportFormat.CSV:
        yield from_header()


@dataclass(frozen=True)
class ReportPage:
    """One HTTP page: its body and the token for the next one (None on the last page)."""

    body: str
    next_token: str | None
    count: int


async def report_page(
    services: ComplianceServices, app_id: str, start: datetime, end: datetime, fmt: ReportFormat,
    token: str | None, page_size: int | None = None,
) -> ReportPage:
    """One bounded page of the report; pass `next_token` back to get the next one."""
    size = page_size or services.config.report_page_size
    after = decode_token(token) if token else None
    async for page in services.events.pages(app_id, start, end, after=after, page_size=size):
        body = "".join(_lines(page.events, fmt, header=True))
        more = len(page.events) == size
        return ReportPage(body, encode_token(page.position) if more else None, len(page.events))
    return ReportPage(from_header() if fmt is ReportFormat.CSV else "", None, 0)


def _lines(events: tuple[ComplianceEvent, ...], fmt: ReportFormat, *, header: bool) -> list[str]:
    if fmt is ReportFormat.JSON:
        return list(iter_jsonl(events))
    lines = list(iter_csv(events))
    return lines if header else lines[1:]


def from_header() -> str:
    """The CSV header line alone (an empty report)."""
    return next(iter_csv(()))


class BadToken(ValueError):
    """A continuation token this service did not issue."""


def encode_token(position: Position) -> str:
    """An opaque, URL-safe continuation token."""
    raw = json.dumps([position.month, position.row_key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> Position:
    """The position in a token; BadToken when it is not one of ours."""
    try:
        month, row = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(month, str) and isinstance(row, str)):
            raise TypeError("token parts must be text")
    except (ValueError, TypeError, binascii.Error) as error:
        raise BadToken("not a continuation token from this report") from error
    return Position(month, row)


def _six_fields(value: str) -> str | None:
    return None if len(value.split()) == 6 else "must be a 6-field NCRONTAB expression"


class UnknownApp(LookupError):
    """The app is not managed by PIM Warden."""


async def app_evidence(services: ComplianceServices, app_id: str) -> AppEvidence:
    """The evidence view of one app: policy versus profile, holders, last run, drift, findings."""
    record = await services.store.apps.find(app_id)
    if record is None:
        raise UnknownApp(f"no managed app {app_id!r}")
    now = services.clock.now()
    profile = services.engine.profiles.get(record.profile)
    app = AppRef(record.app_id, record.display_name)
    groups = sorted(set(record.role_groups.values()))
    state, differences = await _observe(services, record.app_id, groups, profile)
    history = await _history(services, app_id, now)
    found = compute_findings(app, _requirements(profile), history, state, now,
                             timedelta(days=services.config.lapse_window_days))
    last = None if record.last_reconcile is None else LastEnforcement(
        record.last_reconcile, "failed" if record.last_error else "succeeded", "reconcile")
    return build_evidence(app, profile.name, now, state, differences=differences, last_enforcement=last,
                          history=history, findings=found)


async def app_findings(services: ComplianceServices, app_id: str) -> list[Finding]:
    """The findings for one app (the same ones the evidence view shows)."""
    return list((await app_evidence(services, app_id)).findings)


async def _observe(
    services: ComplianceServices, sp_id: str, groups: list[str], profile: Profile,
) -> tuple[AppState, list[PolicyDifference]]:
    reads, upns = services.reads, dict[str, str]()
    eligible: list[ScheduleInstance | None] = []
    active: list[ScheduleInstance | None] = []
    members: list[Membership] = []
    differences: list[PolicyDifference] = []
    for group in groups:
        for item in await reads.eligibility_instances(group):
            eligible.append(instance_from_graph(item, eligibility=True))
            upns.update(_upn(item.get("principal")))
        for item in await reads.assignment_instances(group):
            active.append(instance_from_graph(item, eligibility=False))
            upns.update(_upn(item.get("principal")))
        for member in await reads.group_members(group):
            members.append(Membership(group, str(member.get("id"))))
            upns.update(_upn(member))
        differences += await _differences(services, group, profile)
    direct = [DirectAssignment(str(a.get("id")), str(a.get("principalId")), str(a.get("principalType")),
                               a.get("principalDisplayName"))
              for a in await reads.app_role_assigned_to(sp_id)]
    state = AppState(frozenset(groups), tuple(i for i in eligible if i), tuple(a for a in active if a),
                     tuple(members), tuple(direct), upns)
    return state, differences


async def _differences(services: ComplianceServices, group: str, profile: Profile) -> list[PolicyDifference]:
    """Rule differences of both PIM roles the engine enforces: member and owner."""
    policies = await services.engine.graph.group_policies(GroupId(group))
    roles = (("member", profile.member, policies.member), ("owner", profile.owner, policies.owner))
    return [
        PolicyDifference(access, d.rule_id, "rule", summarize_rule(d.desired), summarize_rule(d.observed))
        for access, settings, policy in roles
        for d in diff_rules(desired_rules(settings), policy.rules if policy else {})
    ]


async def _history(services: ComplianceServices, app_id: str, now: datetime) -> list[ComplianceEvent]:
    """Activations and drift repairs of the history window (other kinds are not kept in memory)."""
    start = now - timedelta(days=services.config.history_days)
    return [e async for e in services.events.events(app_id, start, now + timedelta(seconds=1))
            if e.event in _HISTORY_KINDS]


def _requirements(profile: Profile) -> ProfileRequirements:
    member = profile.member
    return ProfileRequirements(member.require_ticket, parse_duration(member.activation_maximum),
                               member.eligibility.allow_permanent)


def _upn(obj: object) -> dict[str, str]:
    upn, oid = gv.text(obj, "userPrincipalName"), gv.text(obj, "id")
    return {oid: upn} if oid and upn else {}


_HISTORY_KINDS: Final = DRIFT_KINDS | {EventKind.ACTIVATED}
