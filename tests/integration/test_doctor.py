"""`python -m shared doctor` against real Azurite and graphsim (real msgraph-sdk): each failure it reports."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.data.tables.aio import TableClient

from devstack.azurite import ACCOUNT, ACCOUNT_KEY, connection_string
from graphsim import microsoft_graph, seeding, tenants
from graphsim.app import GraphSim, build_app
from graphsim.state import Tenant
from graphsim.testing import asgi_transport, free_port, mint_token
from shared.credentials import StaticTokenCredential
from shared.doctor.results import Report, Status
from shared.doctor.run import run_doctor
from shared.permissions.manifest import load_manifest
from shared.storage import Registration, StateStore

PRINCIPAL = microsoft_graph.PIM_WARDEN_DEV_SP_ID


def mint(roles: Iterable[str]) -> str:
    """PIM Warden's dev identity holding `roles`, minted the way graphsim's control plane does."""
    return mint_token(
        roles, client="PIM Warden (dev)", app_id=microsoft_graph.PIM_WARDEN_DEV_APP_ID, object_id=PRINCIPAL
    )


ALWAYS = [p.name for p in load_manifest().always()]


@pytest.fixture
def sim() -> GraphSim:
    tenant = Tenant()
    seeding.seed(tenant, tenants.demo())
    seeding.seed(tenant, {"groups": [{"id": str(uuid.uuid4()), "displayName": "Any group"}]})
    return build_app(tenant)


@pytest.fixture
async def env(azurite: str) -> AsyncIterator[dict[str, str]]:
    prefix = f"t{uuid.uuid4().hex[:16]}"
    yield {
        "PimWardenStorage": azurite,
        # loopback: the settings accept only Graph hosts or loopback; the ASGI transport ignores the host
        "PIMWARDEN_GRAPH_BASE_URL": "http://127.0.0.1/v1.0",
        "PIMWARDEN_TABLE_PREFIX": prefix,
    }
    store = StateStore.from_connection_string(azurite, prefix)
    await store.delete_tables()
    await store.close()


async def doctor(env: dict[str, str], transport: Any, roles: Iterable[str] = ALWAYS, **kwargs: Any) -> Report:
    credential = kwargs.pop("credential", None) or StaticTokenCredential(mint(roles))
    return await run_doctor(env, credential=credential, transport=transport, **kwargs)


def by_name(report: Report) -> dict[str, Any]:
    return {c.name: c for c in report.checks}


async def test_everything_granted_passes_and_the_probe_entity_is_removed(
    env: dict[str, str], sim: GraphSim, azurite: str
) -> None:
    report = await doctor(env, asgi_transport(sim))
    assert report.ok, [
        c for c in report.checks if c.status is not Status.PASS and c.status is not Status.SKIP
    ]
    checks = by_name(report)
    assert checks["state storage"].status is Status.PASS
    assert checks["permissions"].detail == f"the token holds exactly the {len(ALWAYS)} needed"
    assert {n for n in checks if n.startswith("probe: ")} >= {
        "probe: list service principals (discovery)",
        "probe: list PIM assignment requests (compliance)",
    }
    table = TableClient.from_connection_string(azurite, env["PIMWARDEN_TABLE_PREFIX"] + "cursors")
    async with table:
        assert [e async for e in table.list_entities()] == []  # the table was written to, the probe removed


async def test_an_app_on_a_protected_profile_needs_role_management(
    env: dict[str, str], sim: GraphSim, azurite: str
) -> None:
    store = StateStore.from_connection_string(azurite, env["PIMWARDEN_TABLE_PREFIX"])
    try:
        await store.registrations.put(Registration("app-1", "strict", "operator:test", datetime.now(UTC), ""))
    finally:
        await store.close()
    report = await doctor(env, asgi_transport(sim))
    failure = by_name(report)["permission RoleManagement.ReadWrite.Directory"]
    assert failure.status is Status.FAIL
    assert failure.fix is not None and failure.fix.endswith("--with-protected-groups")


async def test_a_missing_permission_blocks_and_names_the_grant(env: dict[str, str], sim: GraphSim) -> None:
    report = await doctor(env, asgi_transport(sim), [r for r in ALWAYS if r != "AuditLog.Read.All"])
    assert not report.ok
    [failure] = [c for c in report.blocking if c.name.startswith("permission ")]
    assert failure.name == "permission AuditLog.Read.All"
    assert failure.fix == f"python -m shared permissions grant --principal {PRINCIPAL}"


async def test_a_superfluous_permission_warns_without_blocking(env: dict[str, str], sim: GraphSim) -> None:
    report = await doctor(env, asgi_transport(sim), [*ALWAYS, "Directory.ReadWrite.All"])
    assert report.ok
    warning = by_name(report)["superfluous permissions"]
    assert warning.status is Status.WARN and "Directory.ReadWrite.All" in warning.detail


async def test_a_probe_reports_graphs_exact_refusal_and_the_permission(
    env: dict[str, str], sim: GraphSim
) -> None:
    # graphsim enforces the documented permissions: without AuditLog.Read.All the audit log refuses
    report = await doctor(env, asgi_transport(sim), [r for r in ALWAYS if r != "AuditLog.Read.All"])
    probe = by_name(report)["probe: list directory audits (drift signals, compliance)"]
    assert probe.status is Status.FAIL
    assert probe.detail.startswith(
        "Graph 403 Authentication_MSGraphPermissionMissing: Calling principal does "
        "not have required MSGraph permissions AuditLog.Read.All"
    )
    assert probe.fix is not None and "AuditLog.Read.All and Directory.Read.All" in probe.fix


async def test_a_pim_probe_fails_without_the_collectors_permission(
    env: dict[str, str], sim: GraphSim
) -> None:
    missing = "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup"
    report = await doctor(env, asgi_transport(sim), [r for r in ALWAYS if r != missing])
    checks = by_name(report)
    assert checks[f"permission {missing}"].status is Status.FAIL
    probe = checks["probe: list PIM assignment requests (compliance)"]
    assert (
        probe.status is Status.FAIL and "403" in probe.detail and "PermissionScopeNotGranted" in probe.detail
    )
    assert probe.fix is not None and probe.fix.startswith(f"grant {missing}:")
    assert checks["probe: list PIM eligibility schedules (eligibility)"].status is Status.PASS


class Failing:
    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise ClientAuthenticationError("ManagedIdentityCredential: no managed identity endpoint found")

    async def close(self) -> None:
        pass


async def test_token_acquisition_failure_blocks_and_skips_what_needs_it(
    env: dict[str, str], sim: GraphSim
) -> None:
    report = await doctor(env, asgi_transport(sim), credential=Failing())
    checks = by_name(report)
    assert checks["graph token"].status is Status.FAIL
    assert "ClientAuthenticationError" in checks["graph token"].detail
    assert checks["permissions and probes"].status is Status.SKIP


async def test_storage_and_queue_down_closed_ports(env: dict[str, str], sim: GraphSim) -> None:
    env["PimWardenStorage"] = connection_string(free_port(), free_port())
    report = await doctor(env, asgi_transport(sim))
    checks = by_name(report)
    assert checks["state storage"].status is Status.FAIL
    assert checks["reconcile queue"].status is Status.FAIL
    assert ACCOUNT_KEY not in json.dumps(report.as_dict())


async def test_queue_down_alone(env: dict[str, str], sim: GraphSim) -> None:
    env["PimWardenStorage"] = re.sub(
        r"QueueEndpoint=[^;]+",
        f"QueueEndpoint=http://127.0.0.1:{free_port()}/{ACCOUNT}",
        env["PimWardenStorage"],
    )
    checks = by_name(await doctor(env, asgi_transport(sim)))
    assert checks["state storage"].status is Status.PASS
    assert checks["reconcile queue"].status is Status.FAIL


async def test_invalid_settings_fail_first_and_skip_the_rest(env: dict[str, str], sim: GraphSim) -> None:
    env["PIMWARDEN_RUN_BUDGET_SECONDS"] = "ten"
    report = await doctor(env, asgi_transport(sim))
    assert [c.status for c in report.checks] == [Status.FAIL, Status.SKIP]
    assert "PIMWARDEN_RUN_BUDGET_SECONDS" in report.checks[0].detail


async def test_run_budget_at_or_over_the_host_timeout(
    env: dict[str, str], sim: GraphSim, tmp_path: Path
) -> None:
    host = tmp_path / "host.json"
    host.write_text(json.dumps({"version": "2.0", "functionTimeout": "00:04:00"}))
    checks = by_name(await doctor(env, asgi_transport(sim), host_json=host))
    assert checks["run budget"].status is Status.FAIL
    assert checks["run budget"].fix == "set PIMWARDEN_RUN_BUDGET_SECONDS below 240"


async def test_a_broken_webhook_source_fails(env: dict[str, str], sim: GraphSim) -> None:
    env["PIMWARDEN_TICKETS_GENERIC_SECRETS"] = "whsec_not*base64"
    checks = by_name(await doctor(env, asgi_transport(sim)))
    assert checks["webhook source generic"].status is Status.FAIL
    assert "not*base64" not in checks["webhook source generic"].detail
    assert checks["webhook source jira"].status is Status.SKIP


def test_the_cli_exits_1_and_names_the_problem_when_settings_are_invalid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from shared.cli import main as cli

    monkeypatch.chdir(tmp_path)  # no local.settings.json to fill the environment in
    for name in ("PimWardenStorage", "PimWardenStorage__tableServiceUri"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["doctor", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["checks"][0]["name"] == "settings" and "PimWardenStorage" in report["checks"][0]["fix"]
