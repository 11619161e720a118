"""Change signals: which apps to look at this tick, so that a quiet tenant costs almost nothing.

Sources: service principal delta (discover.py); group delta over the managed groups (members
included); directory audit entries since a cursor, re-read with an overlap because entries arrive
late; registrations not yet managed; the due list (deferred work, failures, grant starts/ends);
and, on the slower schedule or on demand, a full audit of every managed app.

PIM Warden's own writes echo back in these signals (every service principal it PATCHed shows in the
delta, every change it made in the audit log); answering them would re-read every app after each
onboarding. Audit entries initiated by PIM Warden's own service principal are skipped, and a
service principal whose relevant state still has the fingerprint its last successful reconcile left
is not a reason to look again. Anyone else's change still is: another initiator, or a difference
in tags, app roles, assignment required, custom security attributes or display name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared.domain.ids import GroupId
from shared.domain.model import ServicePrincipal
from shared.engine.discover import Discovery, save_cursor
from shared.engine.ports import AuditSignal, DeltaTokenExpired, GraphPort, GroupDelta
from shared.graph.signal_queries import DELTA_FILTER_MAX_IDS
from shared.storage import Cursor, CursorRepo, ManagedApp

GROUP_DELTA_CURSOR = "group-delta"
AUDIT_CURSOR = "audit"
FULL_AUDIT_CURSOR = "full-audit"


@dataclass
class PendingCursor:
    """A cursor to move once the apps it revealed are durable."""

    name: str
    before: Cursor | None
    value: str


@dataclass
class Signals:
    """Apps a signal points at, and the cursors to move afterwards."""

    apps: set[str] = field(default_factory=set)
    cursors: list[PendingCursor] = field(default_factory=list)


def group_owners(records: Iterable[ManagedApp]) -> dict[str, str]:
    """group id -> service principal id, over every managed group."""
    return {group: app.app_id for app in records for group in app.role_groups.values()}


# How the group delta is read (measured with bench/signals.py; README "Benchmark"): a tenant-wide
# round costs one request per page of ALL group changes in the tenant (other teams' groups, dynamic
# memberships), a filtered one costs one request per chunk of at most 50 managed groups
# (group-delta.md: `$filter=id eq .. or ..`, "a limit of 50 filtered objects") whatever the churn.
# 10,000 managed groups are 200 chunks, 200 requests a tick against 1 for a tenant-wide round with
# ordinary churn (50 other groups changing), and 200 delta links (each carries its 50 ids) would not
# fit the cursor's 64 KiB property either. Filtered chunks pay only while there are few of them: at
# most 2 chunks (100 groups) cost 1-2 requests a tick that no background churn can add to, where a
# tenant-wide round costs a page per ~100 changed groups of the whole tenant.
FILTERED_MAX_CHUNKS = 2
_TENANT_WIDE = "*"


def delta_chunks(
    groups: Iterable[str], max_chunks: int = FILTERED_MAX_CHUNKS
) -> list[tuple[str, ...]] | None:
    """The managed groups, sorted, in chunks of at most 50 ids; None when there would be more than
    `max_chunks` of them (then one tenant-wide delta is cheaper)."""
    ordered = sorted(set(groups))
    size = DELTA_FILTER_MAX_IDS
    parts = [tuple(ordered[i : i + size]) for i in range(0, len(ordered), size)]
    return parts if len(parts) <= max_chunks else None


def chunk_key(ids: Iterable[str]) -> str:
    """A chunk's fingerprint: its delta link is kept only while the chunk holds exactly these groups."""
    return hashlib.sha256(",".join(sorted(ids)).encode()).hexdigest()[:16]


def stored_links(value: str) -> dict[str, str]:
    """The delta links a group-delta cursor holds: chunk fingerprint (or "*", tenant-wide) -> link.
    The older `{"groups", "link"}` form held a tenant-wide link."""
    stored = json.loads(value) if value else {}
    if "links" in stored:
        return {str(k): str(v) for k, v in stored["links"].items() if v}
    return {_TENANT_WIDE: str(stored["link"])} if stored.get("link") else {}


async def group_delta_signals(
    graph: GraphPort, cursors: CursorRepo, owners: Mapping[str, str], *, max_chunks: int = FILTERED_MAX_CHUNKS
) -> Signals:
    """Apps whose managed groups changed (members included) since the stored delta links.

    A link whose chunk no longer exists (the managed set changed, or the way of reading it) is read one
    last time, so changes since it still count; a new chunk starts with a baseline, which is no change.
    """
    cursor = await cursors.find(GROUP_DELTA_CURSOR)
    stored = stored_links(cursor.value if cursor else "")
    found = Signals()
    if not owners:
        return found
    parts = delta_chunks(owners, max_chunks)
    wanted = {_TENANT_WIDE: tuple(sorted(owners))} if parts is None else {chunk_key(p): p for p in parts}
    links = {
        key: await _follow(graph, stored.get(key), ids, owners, found, filtered=parts is not None)
        for key, ids in wanted.items()
    }
    for key, link in stored.items():
        if key not in wanted:
            with contextlib.suppress(DeltaTokenExpired):
                _found_in(await graph.group_delta([GroupId(g) for g in owners], link), owners, found)
    found.cursors.append(PendingCursor(GROUP_DELTA_CURSOR, cursor, json.dumps({"links": links})))
    return found


async def _follow(
    graph: GraphPort, link: str | None, ids: tuple[str, ...], owners: Mapping[str, str], found: Signals,
    *, filtered: bool,
) -> str:
    group_ids = [GroupId(g) for g in ids]
    if link:
        try:
            delta = await graph.group_delta(group_ids, link, filtered=filtered)
            _found_in(delta, owners, found)
            return delta.delta_link
        except DeltaTokenExpired:
            # An expired token: we cannot know what changed, so every app of these groups is looked at.
            found.apps |= {owners[g] for g in ids}
    return (await graph.group_delta(group_ids, None, filtered=filtered)).delta_link


def _found_in(delta: GroupDelta, owners: Mapping[str, str], found: Signals) -> None:
    found.apps |= {owners[g] for g in delta.changed | delta.removed if g in owners}


async def audit_signals(
    graph: GraphPort, cursors: CursorRepo, owners: Mapping[str, str], apps: Iterable[str],
    now: datetime, overlap: timedelta, *, own: Collection[str] = (),
) -> Signals:
    """Apps named by directory audit entries since the cursor (minus the overlap window), except
    entries initiated by one of the `own` service principals (PIM Warden itself)."""
    cursor = await cursors.find(AUDIT_CURSOR)
    last = datetime.fromisoformat(cursor.value) if cursor and cursor.value else now
    entries = await graph.audit_signals(last - overlap, now)
    known = set(apps)
    found = Signals()
    for entry in entries:
        if is_own(entry, own):
            continue
        for target in entry.target_ids:
            found.apps |= _apps_for(target, owners, known)
    found.cursors.append(PendingCursor(AUDIT_CURSOR, cursor, now.isoformat()))
    return found


def is_own(entry: AuditSignal, own: Collection[str]) -> bool:
    """Whether PIM Warden's own service principal made this change (no user named, the app is ours)."""
    return entry.initiated_by_app is not None and entry.initiated_by_app.lower() in own


def service_principal_fingerprint(sp: ServicePrincipal) -> str:
    """A short digest of the service principal state reconcile acts on (order of tags and roles aside):
    `{tags, app roles, assignment required, display name}.{custom security attributes}`."""
    roles = sorted(
        [str(r.id), r.value, r.display_name, sorted(r.allowed_member_types), r.is_enabled]
        for r in sp.app_roles
    )
    state = {
        "displayName": sp.display_name,
        "tags": sorted(sp.tags),
        "appRoles": roles,
        "appRoleAssignmentRequired": sp.app_role_assignment_required,
    }
    return f"{_digest(state)}.{_digest(sp.custom_security_attributes)}"


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_last_left(sp: ServicePrincipal, fingerprint: str) -> bool:
    """Whether `sp` is as the reconcile that recorded `fingerprint` left it ("" = nothing recorded)."""
    if not fingerprint:
        return False
    state, _, attributes = fingerprint.partition(".")
    now_state, _, now_attributes = service_principal_fingerprint(sp).partition(".")
    # servicePrincipals/delta does not return customSecurityAttributes, so with none in hand they are
    # not compared. Nothing is lost: a change to them shows neither in the delta nor in directoryAudits
    # (Entra logs it in the separate customSecurityAttributeAudits), so the full audit finds it, as before.
    return state == now_state and (attributes == now_attributes or not sp.custom_security_attributes)


def without_own_changes(found: Discovery, records: Iterable[ManagedApp]) -> Discovery:
    """The discovery minus changed service principals still as their last successful reconcile left
    them. A full round (a baseline, not a list of changes) and removals are kept as they are."""
    if found.full:
        return found
    left = {r.app_id: r.sp_fingerprint for r in records if r.last_error is None}
    changed = {
        sp_id: sp for sp_id, sp in found.changed.items() if not as_last_left(sp, left.get(sp_id, ""))
    }
    return replace(found, changed=changed)


def _apps_for(target: str, owners: Mapping[str, str], apps: set[str]) -> set[str]:
    if target in apps:
        return {target}
    if target in owners:
        return {owners[target]}
    # Policy ids of a group look like Group_{groupId}_{guid}.
    return {app for group, app in owners.items() if group in target}


async def full_audit_due(
    cursors: CursorRepo, now: datetime, interval: timedelta
) -> tuple[bool, Cursor | None]:
    """Whether the slower full audit is due, and the cursor to move when it completes."""
    cursor = await cursors.find(FULL_AUDIT_CURSOR)
    if cursor is None or not cursor.value:
        return True, cursor
    return now - datetime.fromisoformat(cursor.value) >= interval, cursor


async def move_cursors(cursors: CursorRepo, pending: Iterable[PendingCursor], now: datetime) -> None:
    """Move each pending cursor (conditionally)."""
    for item in pending:
        await save_cursor(cursors, item.name, item.before, item.value, now)
