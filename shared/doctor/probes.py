"""The preflight's I/O: storage, queue, token and Graph probes, each bounded in time and turned into
a Check. Errors are reported by kind and status (and Graph's own code and message), never with a
connection string, a key or a token."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from shared.doctor.checks import probe_check
from shared.doctor.results import Check, Status
from shared.graph.errors import GraphError
from shared.permissions.manifest import Option
from shared.settings import Settings

TIMEOUT_SECONDS = 10.0
T = TypeVar("T")


def error_kind(error: BaseException) -> str:
    """An error's class and HTTP status: enough to act on, nothing secret."""
    if isinstance(error, HttpResponseError) and error.status_code is not None:
        return f"{type(error).__name__} (HTTP {error.status_code})"
    if isinstance(error, TimeoutError):
        return f"no answer within {TIMEOUT_SECONDS:.0f} s"
    return type(error).__name__


async def _bounded(op: Callable[[], Awaitable[T]]) -> T:
    async with asyncio.timeout(TIMEOUT_SECONDS):
        return await op()


async def storage_check(settings: Settings, credential: AsyncTokenCredential | None) -> Check:
    """State storage reachable and writable: a probe entity written and removed."""
    from shared.storage import RetryPolicy, StateStore

    store = StateStore.from_settings(settings, credential, retry=RetryPolicy(attempts=1))
    try:
        await _bounded(store.probe_write)
    except Exception as error:  # any failure means "not usable"; report its kind only
        return Check(
            "state storage",
            Status.FAIL,
            f"{settings.storage.table_endpoint()}: {error_kind(error)}",
            "check PimWardenStorage (connection or the identity's Storage Table Data Contributor role)",
        )
    finally:
        await store.close()
    return Check(
        "state storage", Status.PASS, f"{settings.storage.table_endpoint()}: probe entity written and removed"
    )


async def profiles_in_use(settings: Settings, credential: AsyncTokenCredential | None) -> set[str]:
    """The profiles of managed and registered apps (empty when storage cannot be read)."""
    from shared.storage import RetryPolicy, StateStore

    store = StateStore.from_settings(settings, credential, retry=RetryPolicy(attempts=1))
    try:
        apps = await _bounded(store.apps.list)
        registrations = await _bounded(store.registrations.list)
    except Exception:  # the storage check has reported it already
        return set()
    finally:
        await store.close()
    return {a.profile for a in apps} | {r.profile for r in registrations}


async def queue_check(settings: Settings, credential: AsyncTokenCredential | None) -> Check:
    """The reconcile queue's service answers (the queue itself is created on first use)."""
    from azure.storage.queue.aio import QueueClient

    from shared.queue_names import RECONCILE_QUEUE

    storage = settings.storage
    options: dict[str, Any] = {"retry_total": 0, "connection_timeout": 5}
    if storage.connection_string is not None:
        client = QueueClient.from_connection_string(storage.connection_string, RECONCILE_QUEUE, **options)
    elif storage.queue_service_uri is not None and credential is not None:
        client = QueueClient(storage.queue_service_uri, RECONCILE_QUEUE, credential=credential, **options)
    else:
        return Check(
            "reconcile queue",
            Status.FAIL,
            "no queue endpoint",
            "set PimWardenStorage__queueServiceUri to https://<account>.queue.core.windows.net",
        )
    try:
        await _bounded(client.get_queue_properties)
    except ResourceNotFoundError:
        return Check("reconcile queue", Status.PASS, f"{RECONCILE_QUEUE}: reachable (created on first use)")
    except Exception as error:
        return Check(
            "reconcile queue",
            Status.FAIL,
            f"{RECONCILE_QUEUE}: {error_kind(error)}",
            "check PimWardenStorage (queue endpoint or the identity's Storage Queue Data roles)",
        )
    finally:
        await client.close()
    return Check("reconcile queue", Status.PASS, f"{RECONCILE_QUEUE}: reachable")


async def token_check(credential: AsyncTokenCredential, scope: str) -> tuple[Check, str | None]:
    """A Microsoft Graph token for `scope` (the configured cloud's) can be acquired with the credential."""
    try:
        token = await _bounded(lambda: credential.get_token(scope))
    except Exception as error:
        return Check(
            "graph token",
            Status.FAIL,
            f"{error_kind(error)}: {_first_line(error)}",
            "check PIMWARDEN_CREDENTIAL and PIMWARDEN_IDENTITY_CLIENT_ID (the identity must exist "
            "and be assigned to the function app)",
        ), None
    return Check("graph token", Status.PASS, "acquired"), token.token


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:200]


@dataclass(frozen=True)
class Probe:
    """One Graph probe: what it reads, which permissions it needs, and the read itself."""

    label: str
    needs: tuple[str, ...]
    read: Callable[[Any], Awaitable[dict[str, Any] | None]]


async def graph_checks(
    settings: Settings,
    credential: AsyncTokenCredential,
    principal: str | None,
    options: frozenset[Option],
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Check]:
    """One read-only probe per feature, reporting Graph's exact error for each that fails."""
    from shared.graph.calls import CallRunner
    from shared.graph.client import build_graph_client
    from shared.graph.probes import GraphProbes

    client = build_graph_client(
        settings.graph_base_url, credential, transport=transport, timeout_s=TIMEOUT_SECONDS
    )
    probes = GraphProbes(client, CallRunner(max_attempts=2, max_wait_s=5.0), batch_reads=False)
    checks: list[Check] = []
    group: dict[str, Any] | None = None
    for probe in _directory_probes():
        check, found = await _probe(probes, probe, principal, options)
        checks.append(check)
        if probe.label.startswith("list groups") and found:
            group = found
    if group is None:
        checks.append(
            Check("probe: PIM for Groups", Status.SKIP, "no group in the tenant yet: probed once one exists")
        )
        return checks
    for probe in _pim_probes(str(group["id"])):
        checks.append((await _probe(probes, probe, principal, options))[0])
    return checks


async def _probe(
    probes: Any, probe: Probe, principal: str | None, options: frozenset[Option]
) -> tuple[Check, dict[str, Any] | None]:
    try:
        found = await _bounded(lambda: probe.read(probes))
    except GraphError as error:
        return probe_check(probe.label, probe.needs, error, principal, options), None
    except Exception as error:
        return Check(
            f"probe: {probe.label}", Status.FAIL, error_kind(error), "check PIMWARDEN_GRAPH_BASE_URL"
        ), None
    return probe_check(probe.label, probe.needs, None, principal, options, found=found is not None), found


def _directory_probes() -> list[Probe]:
    return [
        Probe(
            "list service principals (discovery)", ("Directory.Read.All",), lambda p: p.service_principal()
        ),
        Probe("list groups (access groups)", ("Group.ReadWrite.All",), lambda p: p.group()),
        Probe(
            "list directory audits (drift signals, compliance)",
            ("AuditLog.Read.All", "Directory.Read.All"),
            lambda p: p.audit_entry(),
        ),
    ]


def _pim_probes(group_id: str) -> list[Probe]:
    return [
        Probe(
            "list PIM policy assignments (policies)",
            ("RoleManagementPolicy.ReadWrite.AzureADGroup",),
            lambda p: p.policy_assignment(group_id),
        ),
        Probe(
            "list PIM eligibility schedules (eligibility)",
            ("PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",),
            lambda p: p.eligibility_schedule(group_id),
        ),
        Probe(
            "list PIM assignment requests (compliance)",
            ("PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",),
            lambda p: p.assignment_request(group_id),
        ),
    ]
