"""The enforce timer through its real entry point: indexed like the worker does, called with a
TimerRequest, talking to graphsim over a real socket and to Azurite, exactly as configured by env."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import azure.functions as func
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.functions.timer import TimerRequest
from azure.storage.queue.aio import QueueClient

from devstack.queue_host import QueueHost, QueueSettings
from graphsim import seeding, tenants
from graphsim.app import build_app
from graphsim.state import Tenant
from graphsim.testing import SimServer
from shared import runtime
from shared.api import wiring
from shared.functions import enforce, reconcile
from shared.queue_names import RECONCILE_QUEUE

from .hostcheck import _function_problems, index

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
NEW_SETTINGS = {"PIMWARDEN_FULL_AUDIT_SCHEDULE": "0 30 3 * * *"}


@pytest.fixture
async def app_env(monkeypatch: pytest.MonkeyPatch, azurite: str) -> AsyncIterator[SimServer]:
    tenant = Tenant()
    seeding.seed(tenant, tenants.demo())
    with SimServer(build_app(tenant)) as server:
        for name, value in {**SAMPLE, **NEW_SETTINGS}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("PimWardenStorage", azurite)
        monkeypatch.setenv("PIMWARDEN_GRAPH_BASE_URL", server.base_url)
        monkeypatch.setenv("PIMWARDEN_TABLE_PREFIX", f"e{uuid.uuid4().hex[:12]}")
        runtime.reset()
        yield server
        wiring.uninstall()
    await runtime.aclose()


def _functions() -> dict[str, object]:
    app = func.FunctionApp()
    app.register_functions(enforce.bp)
    return {f.name: f for f in index(app)}


def test_timers_index_cleanly_with_settings_schedules() -> None:
    functions = _functions()
    assert set(functions) == {"enforce_timer", "full_audit_timer"}
    for f in functions.values():
        trigger = f.trigger  # type: ignore[attr-defined]
        assert trigger["runOnStartup"] is False and trigger["schedule"].startswith("%")
        assert _function_problems(f, {**SAMPLE, **NEW_SETTINGS}) == []  # type: ignore[arg-type]


@pytest.mark.azurite
async def test_timer_onboards_the_demo_tenant_and_logs_one_line(
    app_env: SimServer, azurite: str, caplog: pytest.LogCaptureFixture
) -> None:
    """With nothing installed, the timer builds its services from settings and enqueues on the
    configured queue; the reconcile trigger (driven like the host drives it) onboards the apps."""
    async with QueueClient.from_connection_string(azurite, RECONCILE_QUEUE) as queue:
        with contextlib.suppress(ResourceNotFoundError):
            await queue.clear_messages()  # another test's leftovers must not count here
    timer = _functions()["enforce_timer"].user_function  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="pimwarden.enforce"):
        await timer(TimerRequest(past_due=False))
    [line] = [r.getMessage() for r in caplog.records if r.name == "pimwarden.enforce"]
    assert line.startswith("dispatch cause=timer full=true") and "enqueued=6" in line, line
    host = QueueHost(azurite, QueueSettings(visibility_timeout_s=0))
    host.listen(RECONCILE_QUEUE, reconcile.reconcile)
    stats = await host.drain()
    assert stats.succeeded == 6 and stats.failed == 0  # 4 onboarded, 2 refused (never manageable)
    groups = {str(g.get("uniqueName")) for g in app_env.app.tenant.groups.values()}
    expected = set()
    for sp in app_env.app.tenant.service_principals.values():
        if sp["displayName"] in (
            "FinReport SQL",
            "Payroll RDP Jump Host",
            "Trading Desk Portal",
            "Clinical Records Share",
        ):
            role = next((r["id"] for r in sp.get("appRoles", [])), "00000000-0000-0000-0000-000000000000")
            expected.add(f"pimwarden-{sp['appId'].lower()}-{role}")
            assert sp["appRoleAssignmentRequired"] is True
    assert groups == expected
