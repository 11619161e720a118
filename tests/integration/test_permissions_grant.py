"""`python -m shared permissions grant|check` end to end on graphsim, through the real msgraph-sdk."""

from __future__ import annotations

from typing import Any

import pytest

from graphsim import microsoft_graph, seeding, tenants
from graphsim.app import GraphSim, build_app
from graphsim.state import Tenant
from graphsim.testing import IN_PROCESS_BASE, asgi_transport
from shared.cli import main as cli
from shared.cli.permissions import PermissionsError, dev_admin_token, run_permissions
from shared.credentials import StaticTokenCredential, dev_token
from shared.permissions.manifest import Option, load_manifest

PRINCIPAL = microsoft_graph.PIM_WARDEN_DEV_SP_ID
GRAPH_SP = microsoft_graph.MICROSOFT_GRAPH_SP_ID


@pytest.fixture
def sim() -> GraphSim:
    tenant = Tenant()
    seeding.seed(tenant, tenants.demo())
    return build_app(tenant)


def held(sim: GraphSim) -> set[str]:
    """The app role ids PIM Warden's identity holds on Microsoft Graph, read from graphsim's state."""
    return {
        a["appRoleId"]
        for a in sim.tenant.app_role_assignments.values()
        if a["resourceId"] == GRAPH_SP and a["principalId"] == PRINCIPAL
    }


async def run(sim: GraphSim, action: str, *, token: str | None = None, **kwargs: Any) -> int:
    credential = StaticTokenCredential(token or dev_admin_token())
    return await run_permissions(
        action,
        PRINCIPAL,
        kwargs.pop("options", frozenset()),
        credential,
        IN_PROCESS_BASE,
        transport=asgi_transport(sim),
        **kwargs,
    )


async def test_grant_assigns_exactly_the_manifest_and_a_second_run_changes_nothing(
    sim: GraphSim, capsys: pytest.CaptureFixture[str]
) -> None:
    always = {p.app_role_id for p in load_manifest().always()}
    assert await run(sim, "check") == 1
    assert "MISSING  AuditLog.Read.All" in capsys.readouterr().out

    assert await run(sim, "grant") == 0
    assert held(sim) == always
    count = len(sim.tenant.app_role_assignments)

    assert await run(sim, "grant") == 0
    assert len(sim.tenant.app_role_assignments) == count
    assert f"{len(always)} already granted, 0 granted" in capsys.readouterr().out
    assert await run(sim, "check") == 0
    assert "exactly the needed permissions" in capsys.readouterr().out


async def test_dry_run_prints_and_changes_nothing(sim: GraphSim, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run(sim, "grant", dry_run=True) == 0
    assert held(sim) == set()
    assert "would grant PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup" in capsys.readouterr().out


async def test_optional_permissions_only_when_asked(sim: GraphSim) -> None:
    manifest = load_manifest()
    await run(sim, "grant", options=frozenset({Option.PROTECTED_GROUPS}))
    assert manifest.by_name("RoleManagement.ReadWrite.Directory").app_role_id in held(sim)
    assert manifest.by_name("CustomSecAttributeAssignment.Read.All").app_role_id not in held(sim)
    # granted but not asked for: check reports it as superfluous
    assert await run(sim, "check") == 1


async def test_check_reports_a_superfluous_role_and_grant_never_removes_it(
    sim: GraphSim, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = microsoft_graph.APPLICATION_PERMISSIONS["Group.Create"]
    seeding.seed(
        sim.tenant,
        {
            "appRoleAssignments": [
                {
                    "id": "extra-assignment",
                    "principalId": PRINCIPAL,
                    "resourceId": GRAPH_SP,
                    "appRoleId": extra,
                }
            ]
        },
    )
    await run(sim, "grant")
    assert extra in held(sim)
    capsys.readouterr()
    assert await run(sim, "check") == 1
    out = capsys.readouterr().out
    assert "EXTRA    Group.Create" in out
    assert f"servicePrincipals/{GRAPH_SP}/appRoleAssignedTo/extra-assignment" in out


async def test_pim_wardens_own_identity_is_refused(sim: GraphSim) -> None:
    with pytest.raises(PermissionsError, match="PIM Warden's own identity"):
        await run(sim, "grant", token=dev_token(PRINCIPAL))
    assert held(sim) == set()


def test_the_cli_refuses_a_principal_that_is_not_an_object_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["permissions", "check", "--principal", "not-a-guid", "--credential", "dev-admin"]) == 1
    assert "--principal must be an object id" in capsys.readouterr().err


def test_graphsim_declares_every_manifest_permission_with_its_id() -> None:
    declared = microsoft_graph.APPLICATION_PERMISSIONS
    for permission in load_manifest().permissions:
        assert declared[permission.name] == permission.app_role_id
