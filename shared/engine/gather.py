"""What one tick looks at: change signals gathered into the apps to reconcile (inline or through the queue).

Sources (shared/engine/signals.py): service principal delta, group delta, directory audit entries, the
due list, registrations not yet managed, unreadable or lost rows, and on the slower schedule every
managed app. Nothing here writes: the caller makes the apps durable, then moves the returned cursors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta

from shared.domain.ids import ServicePrincipalId
from shared.domain.model import ServicePrincipal
from shared.engine.discover import SP_DELTA_CURSOR, Discovery, discover
from shared.engine.highvalue import classify
from shared.engine.reconcile import UNKNOWN, Unknown
from shared.engine.schedule import DueSchedule
from shared.engine.services import Services
from shared.engine.signals import (
    FULL_AUDIT_CURSOR,
    PendingCursor,
    audit_signals,
    full_audit_due,
    group_delta_signals,
    group_owners,
    without_own_changes,
)
from shared.storage import AppStatus
from shared.telemetry.runs import apps_by_status

Target = ServicePrincipal | Unknown | None


async def gather(
    services: Services, now: datetime, full: bool, warnings: list[str]
) -> tuple[dict[str, Target], list[PendingCursor], bool]:
    """The apps to look at this tick (a service principal in hand, UNKNOWN = read it, None = removed),
    the cursors to move once they are durable, and whether this is a full audit."""
    store, graph, config = services.store, services.graph, services.config
    scan = await store.apps.scan()
    apps_by_status(r.status.value for r in scan.apps)
    records = [r for r in scan.apps if r.status is not AppStatus.DELETED]
    registrations = {r.app_id: r for r in await store.registrations.list()}
    interval = timedelta(hours=services.settings.full_audit_interval_hours)
    audit_due, audit_cursor = await full_audit_due(store.cursors, now, interval)
    full = full or audit_due
    managed = {r.app_id for r in records}
    # Changes PIM Warden itself made (a service principal as our last reconcile left it, audit entries
    # our own identity caused) are not reasons to look again: a mass onboarding is not followed by a
    # re-read of everything it touched.
    found = without_own_changes(await discover(graph, store.cursors, full=full, managed=managed), records)
    pending = [PendingCursor(SP_DELTA_CURSOR, found.cursor, found.delta_link)]
    targets = await _from_discovery(services, found, managed, registrations, warnings)
    new_registrations = [a for a in registrations if a not in managed and a not in targets]
    targets.update(dict.fromkeys(new_registrations, UNKNOWN))
    # Rows that cannot be read are reported every run; apps reconciled before whose row is gone are
    # looked at again, which writes their row anew.
    stored = {r.app_id for r in scan.apps} | {u.app_id for u in scan.unreadable}
    for app_id in sorted({u.app_id for u in scan.unreadable} | (await store.leases.app_ids() - stored)):
        targets.setdefault(app_id, UNKNOWN)
    owners = group_owners(records)
    if full:
        targets.update({a: UNKNOWN for a in managed if a not in targets})
        pending.append(PendingCursor(FULL_AUDIT_CURSOR, audit_cursor, now.isoformat()))
    else:
        overlap = timedelta(minutes=config.audit_overlap_minutes)
        for signals in (
            await group_delta_signals(graph, store.cursors, owners),
            await audit_signals(
                graph, store.cursors, owners, managed, now, overlap, own=config.own_service_principals
            ),
        ):
            targets.update({a: UNKNOWN for a in signals.apps if a not in targets})
            pending += signals.cursors
        due = await DueSchedule(store.cursors).read()
        targets.update({a: UNKNOWN for a in due.due_at(now) if a not in targets})
    return targets, pending, full


async def _from_discovery(
    services: Services, found: Discovery, managed: set[str], registrations: Mapping[str, object],
    warnings: list[str],
) -> dict[str, Target]:
    targets: dict[str, Target] = {}
    unread: list[str] = []
    for sp_id, sp in found.changed.items():
        if classify(sp, services.config) is not None:
            targets[sp_id] = sp
        elif _needs_attributes(services, sp):
            if sp_id in managed or sp_id in registrations:
                targets[sp_id] = UNKNOWN  # reconcile reads it in full, attributes included
            else:
                unread.append(sp_id)
        elif sp_id in managed or sp_id in registrations:
            targets[sp_id] = sp
    read = await _read_all(services, unread)
    for sp_id, full in zip(unread, read, strict=True):
        if full is not None and classify(full, services.config) is not None:
            targets[sp_id] = full
    warnings.extend(_hidden_attributes_warning([sp for sp in read if sp is not None]))
    for sp_id in found.removed:
        if sp_id in managed:
            targets[sp_id] = None
    return targets


def _needs_attributes(services: Services, sp: ServicePrincipal) -> bool:
    # servicePrincipals/delta does not return customSecurityAttributes: with an attribute selector
    # configured, a service principal the other selectors did not pick is read once in full.
    return services.config.high_value_attribute is not None and not sp.custom_security_attributes


def _hidden_attributes_warning(read: list[ServicePrincipal]) -> list[str]:
    # Graph answers customSecurityAttributes with null, not a 403, to a caller without the permission:
    # when every service principal read for the selector came back so, the selector cannot match.
    if not read or not all(sp.attributes_hidden for sp in read):
        return []
    return [
        f"customSecurityAttributes came back null for all {len(read)} service principals read: "
        "CustomSecAttributeAssignment.Read.All is probably missing, so PIMWARDEN_HIGH_VALUE_ATTRIBUTE "
        "matches nothing"
    ]


async def _read_all(services: Services, sp_ids: list[str]) -> list[ServicePrincipal | None]:
    gate = asyncio.Semaphore(services.config.concurrency)

    async def one(sp_id: str) -> ServicePrincipal | None:
        async with gate:
            return await services.graph.get_service_principal(ServicePrincipalId(sp_id))

    return list(await asyncio.gather(*(one(sp_id) for sp_id in sp_ids)))
