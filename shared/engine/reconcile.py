"""Reconcile one app: lease -> observe -> plan -> apply -> record (kopf's idempotent handler, per app).

Stored state and Graph are the truth; whatever asked for this run is only a hint. Running it twice
changes nothing the second time. Errors are classified: transient -> stop this app, retry next tick;
permanent -> record it as the app's last error; either way the other apps go on.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from shared.domain.actions import EnsureGroup, Plan, RequireAssignment
from shared.domain.desired import build_desired_app
from shared.domain.ids import AppId, GroupId, ServicePrincipalId
from shared.domain.manageable import manageability
from shared.domain.model import DesiredApp, EligibilityGrant, ObservedApp, ServicePrincipal
from shared.domain.planner import plan_app
from shared.domain.profiles import Profile, ProfileError, profile_fingerprint
from shared.engine.apply import Executor
from shared.engine.grants import to_domain
from shared.engine.highvalue import HighValue, classify
from shared.engine.intents import WriteLog, resolve_pending
from shared.engine.observe import observe_app
from shared.engine.record import AppRecords
from shared.engine.schedule import next_due
from shared.engine.services import Services
from shared.engine.signals import service_principal_fingerprint
from shared.engine.unmanageable import report_unmanageable
from shared.graph.errors import GraphError, PermissionMissingError, TransientGraphError
from shared.storage import AppStatus, LeaseLostError, ManagedApp, UnreadableRecordError
from shared.storage.leases import Lease
from shared.telemetry.tracing import annotate

PERMANENT_RETRY = timedelta(hours=1)


class Outcome(StrEnum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    DEFERRED = "deferred"  # transient failure: the next tick tries again
    FAILED = "failed"  # permanent failure: recorded as the app's last error
    SKIPPED = "skipped"  # another worker holds the lease
    NOT_MANAGED = "not_managed"  # not high-value and never managed
    REFUSED = "refused"  # selected or registered, but never manageable: reported, nothing written
    UNREADABLE = "state_unreadable"  # the app's stored record cannot be read: reported, app left alone


@dataclass(frozen=True)
class AppResult:
    """What reconciling one app came to."""

    service_principal_id: str
    outcome: Outcome
    plan: Plan | None = None
    error: str | None = None
    due: datetime | None = None
    missing_permissions: tuple[str, ...] = ()  # what to grant when Graph refused for a permission
    writes_record: bool = False  # a dry run found the app's record missing: apply writes it
    applied: int = 0  # actions this run carried out (a failed app may have made some before failing)

    @property
    def drifted(self) -> bool:
        return bool(self.plan and self.plan.drift)

    @property
    def has_changes(self) -> bool:
        """Whether applying changes (or, in a dry run, would change) anything."""
        return self.writes_record or bool(self.plan is not None and self.plan.actions)


def unreadable_result(sp_id: str, property_name: str, why: str) -> AppResult:
    """The result for an app whose stored record cannot be read: reported, and nothing else done."""
    return AppResult(sp_id, Outcome.UNREADABLE, error=(
        f"stored app record unreadable: property {property_name}: {why} (the app is left alone until "
        "the row is repaired or deleted; a deleted row is rebuilt by the next run)"))


class Unknown:
    """Marker: the caller did not read the service principal (reconcile reads it)."""


UNKNOWN = Unknown()


async def reconcile_app(
    services: Services,
    sp_id: str,
    cause: str,
    *,
    sp: ServicePrincipal | Unknown | None = UNKNOWN,
    dry_run: bool = False,
) -> AppResult:
    """Bring one app to its desired state (or, with dry_run, only say what that would take)."""
    if dry_run:
        return await _reconcile(services, ServicePrincipalId(sp_id), cause, sp, dry_run=True)
    # One holder id per call, not per worker: two reconciles of the same app in one process (a queue
    # message and an inline resync) must not both pass the lease as "the same holder".
    keeper = LeaseKeeper(services, sp_id, f"{services.holder}-{uuid.uuid4().hex[:8]}")
    if not await keeper.acquire():
        return AppResult(sp_id, Outcome.SKIPPED)
    result = None
    try:
        result = await _reconcile(
            services, ServicePrincipalId(sp_id), cause, sp, dry_run=False, keep=keeper.keep
        )
        return result
    except LeaseLostError as error:  # our lease expired and another worker took the app: it goes on
        return AppResult(sp_id, Outcome.SKIPPED, error=str(error))
    finally:
        with contextlib.suppress(LeaseLostError):
            await keeper.release(forget=result is not None and result.outcome is Outcome.NOT_MANAGED)


class LeaseKeeper:
    """Holds one app's lease for one reconcile, renewing it between actions so a long run keeps it."""

    def __init__(self, services: Services, sp_id: str, holder: str) -> None:
        self._services = services
        self._sp_id = sp_id
        self._holder = holder
        self._ttl = timedelta(seconds=services.config.lease_seconds)
        self._lease: Lease | None = None

    async def acquire(self) -> bool:
        leases, now = self._services.store.leases, self._services.clock.now()
        self._lease = await leases.acquire(self._sp_id, self._holder, self._ttl, now)
        return self._lease is not None

    async def keep(self) -> None:
        """Renew once a third of the lease has passed; LeaseLostError when it is no longer ours."""
        now = self._services.clock.now()
        if self._lease is not None and now >= self._lease.expires_at - self._ttl * 2 / 3:
            self._lease = await self._services.store.leases.renew(self._lease, self._ttl, now)

    async def release(self, *, forget: bool = False) -> None:
        """Free the lease; `forget` deletes its row too (an app that is not ours leaves no trace)."""
        leases = self._services.store.leases
        if self._lease is not None:
            await (leases.forget(self._lease) if forget else leases.release(self._lease))


async def _no_keep() -> None:
    return None


async def _reconcile(
    services: Services,
    sp_id: ServicePrincipalId,
    cause: str,
    sp: ServicePrincipal | Unknown | None,
    *,
    dry_run: bool,
    keep: Callable[[], Awaitable[None]] = _no_keep,
) -> AppResult:
    store, now = services.store, services.clock.now()
    try:
        record = await store.apps.find(sp_id)
    except UnreadableRecordError as error:
        return unreadable_result(sp_id, error.property, error.why)
    registration = await store.registrations.find(sp_id)
    if isinstance(sp, Unknown):
        sp = await services.graph.get_service_principal(sp_id)
    verdict = None
    if sp is not None:
        verdict = classify(
            sp,
            services.config,
            registered=registration is not None,
            registered_profile=registration.profile if registration else None,
        )
    if record is None and verdict is None:
        return AppResult(sp_id, Outcome.NOT_MANAGED)
    refused = manageability(sp, services.config.own_service_principals) if sp is not None else None
    if sp is not None and refused is not None:
        if not dry_run:
            await report_unmanageable(services, sp, record, refused, cause, now)
        return AppResult(sp_id, Outcome.REFUSED, error=f"{refused.code}: {refused.message}")
    try:
        profile = services.profiles.get(verdict.profile if verdict else (record.profile if record else None))
    except ProfileError as error:
        return await _fail(services, sp_id, sp, record, str(error), now, dry_run)
    annotate(profile=profile.name)
    grants = [to_domain(g) for g in await store.grants.list_open(sp_id)]
    desired = _desired(services, sp_id, sp, profile, grants, verdict, now)
    try:
        observed = await observe_app(services.graph, sp_id, sp, desired, record)
    except GraphError as error:
        return await _graph_failure(services, sp_id, sp, record, error, now, dry_run, None)
    plan = plan_app(desired, observed, now)
    due = next_due(desired, observed, grants, now)
    if dry_run:
        missing = record is None and verdict is not None
        if missing:
            plan = replace(plan, notices=(*plan.notices, "no app record is stored: apply writes it"))
        changed = bool(plan.actions) or missing
        return AppResult(sp_id, Outcome.CHANGED if changed else Outcome.UNCHANGED, plan, due=due,
                         writes_record=missing)
    return await _apply(services, desired, observed, plan, verdict, cause, now, due, keep, record)


def _desired(
    services: Services,
    sp_id: ServicePrincipalId,
    sp: ServicePrincipal | None,
    profile: Profile,
    grants: list[EligibilityGrant],
    verdict: HighValue | None,
    now: datetime,
) -> DesiredApp:
    if sp is None:
        return DesiredApp(sp_id, AppId(""), profile, (), in_scope=False)
    return build_desired_app(
        sp,
        profile,
        grants,
        now,
        protected_principals=services.config.protected_principals,
        trusted_owners=services.config.trusted_owners,
        in_scope=verdict is not None,
    )


async def _apply(
    services: Services,
    desired: DesiredApp,
    observed: ObservedApp,
    plan: Plan,
    verdict: HighValue | None,
    cause: str,
    now: datetime,
    due: datetime | None,
    keep: Callable[[], Awaitable[None]],
    record: ManagedApp | None,
) -> AppResult:
    sp_id, sp = desired.service_principal_id, observed.service_principal
    records = AppRecords(services.store, known=record)  # read once, at the start of this reconcile
    name = sp.display_name if sp else ""
    roles_by_name = {role.group.unique_name: role.app_role_id for role in desired.roles}

    async def on_group(action: EnsureGroup, group_id: GroupId) -> None:
        role_id = roles_by_name[action.unique_name]
        await records.change(
            sp_id, name, lambda r: replace(r, role_groups={**r.role_groups, role_id: group_id})
        )

    await resolve_pending(services.store.audit, plan, now)
    writes = WriteLog(services.store.audit, services.clock, plan, observed, cause, now)
    await writes.open()  # every write's audit row exists (pending) before the write is sent
    executor = Executor(
        services.graph, observed, on_group, services.sleep, services.config.replication_wait_seconds,
        pending=plan.actions,
    )
    applied = 0
    for action in plan.actions:
        if writes.closed(action):
            continue  # carried by an earlier action's request, and recorded with it
        annotate(actions_applied=applied)
        await keep()
        try:
            outcome = await executor.apply(action)
        except GraphError as error:
            await writes.close([action], f"failed: {error}")
            failed = await _graph_failure(services, sp_id, sp, None, error, now, False, plan)
            return replace(failed, applied=applied)
        done = [action, *executor.carried_with(action)]  # the actions this one request carried
        applied += len(done) if outcome == "applied" else 0
        await writes.close(done, outcome, executor.pim_requests)
    annotate(actions_applied=applied)
    groups = {str(roles_by_name[u]): str(g) for u, g in executor.group_ids.items() if u in roles_by_name}
    status = _final_status(plan, verdict is not None, sp is not None)
    left = _as_left(sp, plan)
    await records.change(
        sp_id,
        name,
        lambda r: replace(
            r,
            display_name=name or r.display_name,
            role_groups={**r.role_groups, **groups},
            policy_fingerprint=profile_fingerprint(desired.profile) if verdict else r.policy_fingerprint,
            profile=desired.profile.name,
            status=status,
            in_scope=verdict is not None,
            last_reconcile=now,
            last_error=None,
            last_drift=now if plan.drift else r.last_drift,
            sp_fingerprint=service_principal_fingerprint(left) if left else "",
        ),
    )
    outcome = Outcome.CHANGED if applied else Outcome.UNCHANGED
    return AppResult(sp_id, outcome, plan, due=due, applied=applied)


def _as_left(sp: ServicePrincipal | None, plan: Plan) -> ServicePrincipal | None:
    # The service principal as this apply left it: the plan's one write to it is assignment required.
    if sp is not None and any(isinstance(a, RequireAssignment) for a in plan.actions):
        return replace(sp, app_role_assignment_required=True)
    return sp


def _final_status(plan: Plan, in_scope: bool, exists: bool) -> AppStatus:
    if not exists:
        return AppStatus.DELETED
    return AppStatus.MANAGED if in_scope else AppStatus.OUT_OF_SCOPE


async def _graph_failure(
    services: Services,
    sp_id: str,
    sp: ServicePrincipal | None,
    record: ManagedApp | None,
    error: GraphError,
    now: datetime,
    dry_run: bool,
    plan: Plan | None,
) -> AppResult:
    transient = isinstance(error, TransientGraphError)
    result = await _fail(services, sp_id, sp, record, str(error), now, dry_run, transient=transient)
    missing = error.permissions if isinstance(error, PermissionMissingError) else ()
    return replace(result, plan=plan, missing_permissions=missing)


async def _fail(
    services: Services,
    sp_id: str,
    sp: ServicePrincipal | None,
    record: ManagedApp | None,
    message: str,
    now: datetime,
    dry_run: bool,
    *,
    transient: bool = False,
) -> AppResult:
    outcome = Outcome.DEFERRED if transient else Outcome.FAILED
    due = now if transient else now + PERMANENT_RETRY
    if not dry_run:
        name = sp.display_name if sp else (record.display_name if record else "")
        await AppRecords(services.store).change(
            sp_id,
            name,
            lambda r: replace(
                r,
                status=AppStatus.ERROR if not transient else r.status,
                last_error=message,
                last_reconcile=now,
            ),
        )
    return AppResult(sp_id, outcome, error=message, due=due)
