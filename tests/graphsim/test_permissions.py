"""Permissions as Graph enforces them on app-only tokens: every route has a rule citing its API page,
the least privileged permission and the page's higher ones pass, anything else gets the API family's
403, `$batch` checks each inner request, customSecurityAttributes are null without the attribute
permission, and `POST /_sim/tokens` mints the tokens."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphsim.app import GraphSim, build_app
from graphsim.permissions import RULES, rule_for
from graphsim.testing import IN_PROCESS_BASE, asgi_transport, mint_token
from graphsim.tokens import claims_of
from tests.graphsim.conftest import assert_graph_error

SP_ID = "11111111-1111-4111-8111-111111111111"
GROUP_ID = "22222222-2222-4222-8222-222222222222"
ATTRIBUTES = {
    "Applications": {"@odata.type": "#microsoft.graph.customSecurityAttributeValue", "Tier": "HighValue"}
}
DENIED = ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


@pytest.fixture
async def sim() -> GraphSim:
    app = build_app()  # permissions checked
    app.tenant.service_principals[SP_ID] = {
        "id": SP_ID,
        "appId": str(uuid.uuid4()),
        "displayName": "Payroll",
        "appRoles": [],
        "appRoleAssignmentRequired": False,
        "customSecurityAttributes": ATTRIBUTES,
        "tags": [],
    }
    return app


@pytest.fixture
async def ctl(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=asgi_transport(sim), base_url="https://graph.local/_sim"
    ) as client:
        yield client


def client_for(sim: GraphSim, roles: Iterable[str]) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {mint_token(roles, client='Test caller')}"}
    return httpx.AsyncClient(transport=asgi_transport(sim), base_url=IN_PROCESS_BASE, headers=headers)


async def call(
    sim: GraphSim, roles: Iterable[str], method: str, url: str, body: Any = None
) -> httpx.Response:
    async with client_for(sim, roles) as client:
        return await client.request(method, url, json=body, headers={"Prefer": "create-if-missing"})


def test_every_route_graphsim_serves_has_a_rule_naming_its_api_page() -> None:
    app = build_app()
    routes = [c.route for bucket in app.router._buckets.values() for c in bucket]
    missing = [(r.method, r.template) for r in routes if r.template != "/$batch" and rule_for(r) is None]
    assert missing == []
    assert all(rule.doc.endswith(".md") and "/" not in rule.doc for rule in RULES.values())


async def test_a_token_without_roles_holds_no_application_permission(sim: GraphSim) -> None:
    resp = await call(sim, [], "GET", "/servicePrincipals")
    error = assert_graph_error(resp, 403, DENIED[0])
    assert error["message"] == DENIED[1]
    async with httpx.AsyncClient(
        transport=asgi_transport(sim), base_url=IN_PROCESS_BASE, headers={"Authorization": "Bearer opaque"}
    ) as opaque:
        assert_graph_error(await opaque.get("/servicePrincipals"), 403, DENIED[0])


@pytest.mark.parametrize("role", ["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"])
async def test_least_privileged_and_higher_permissions_both_pass(sim: GraphSim, role: str) -> None:
    resp = await call(sim, [role], "GET", "/servicePrincipals")
    assert resp.status_code == 200 and [sp["id"] for sp in resp.json()["value"]] == [SP_ID]


async def test_a_read_permission_does_not_allow_a_write(sim: GraphSim) -> None:
    body = {"appRoleAssignmentRequired": True}
    assert_graph_error(
        await call(sim, ["Application.Read.All"], "PATCH", f"/servicePrincipals/{SP_ID}", body),
        403,
        DENIED[0],
    )
    assert sim.tenant.service_principals[SP_ID]["appRoleAssignmentRequired"] is False
    ok = await call(sim, ["Application.ReadWrite.All"], "PATCH", f"/servicePrincipals/{SP_ID}", body)
    assert ok.status_code == 204 and sim.tenant.service_principals[SP_ID]["appRoleAssignmentRequired"] is True


async def test_app_role_assignment_needs_both_permissions_of_its_row(sim: GraphSim) -> None:
    sim.tenant.groups[GROUP_ID] = {
        "id": GROUP_ID,
        "displayName": "G",
        "groupTypes": [],
        "securityEnabled": True,
    }
    sim.tenant.members[GROUP_ID], sim.tenant.owners[GROUP_ID] = {}, {}
    body = {"principalId": GROUP_ID, "resourceId": SP_ID, "appRoleId": "00000000-0000-0000-0000-000000000000"}
    url = f"/servicePrincipals/{SP_ID}/appRoleAssignedTo"
    assert_graph_error(
        await call(sim, ["AppRoleAssignment.ReadWrite.All"], "POST", url, body), 403, DENIED[0]
    )
    assert_graph_error(await call(sim, ["Application.Read.All"], "POST", url, body), 403, DENIED[0])
    assert sim.tenant.app_role_assignments == {}
    both = await call(sim, ["AppRoleAssignment.ReadWrite.All", "Application.Read.All"], "POST", url, body)
    assert both.status_code == 201, both.text


async def test_pim_refuses_with_permission_scope_not_granted(sim: GraphSim) -> None:
    url = "/identityGovernance/privilegedAccess/group/assignmentScheduleRequests"
    url += f"?$filter=groupId eq '{GROUP_ID}'"
    resp = await call(sim, ["PrivilegedAssignmentSchedule.Read.AzureADGroup"], "GET", url)
    error = assert_graph_error(resp, 403, "UnknownError")
    inner = json.loads(error["message"])
    assert inner["errorCode"] == "PermissionScopeNotGranted"
    assert "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup" in inner["message"]
    assert (
        await call(sim, ["PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup"], "GET", url)
    ).status_code == 200


async def test_policy_reads_accept_read_and_writes_need_read_write(sim: GraphSim) -> None:
    url = (
        f"/policies/roleManagementPolicyAssignments?$filter=scopeId eq '{GROUP_ID}' and scopeType eq 'Group'"
    )
    sim.tenant.groups[GROUP_ID] = {
        "id": GROUP_ID,
        "displayName": "G",
        "groupTypes": [],
        "securityEnabled": True,
    }
    sim.tenant.members[GROUP_ID], sim.tenant.owners[GROUP_ID] = {}, {}
    assert (await call(sim, ["RoleManagementPolicy.Read.AzureADGroup"], "GET", url)).status_code == 200
    assert_graph_error(await call(sim, ["Group.ReadWrite.All"], "GET", url), 403, "UnknownError")


async def test_audit_logs_answer_their_own_code_and_need_directory_read(sim: GraphSim) -> None:
    url = "/auditLogs/directoryAudits"
    none = assert_graph_error(
        await call(sim, ["Directory.Read.All"], "GET", url), 403, "Authentication_MSGraphPermissionMissing"
    )
    assert "AuditLog.Read.All" in none["message"]
    assert_graph_error(await call(sim, ["AuditLog.Read.All"], "GET", url), 403, DENIED[0])
    assert (await call(sim, ["AuditLog.Read.All", "Directory.Read.All"], "GET", url)).status_code == 200


async def test_batch_checks_each_inner_request_on_its_own(sim: GraphSim) -> None:
    body = {
        "requests": [
            {"id": "1", "method": "GET", "url": "/servicePrincipals"},
            {"id": "2", "method": "GET", "url": "/auditLogs/directoryAudits"},
        ]
    }
    resp = await call(sim, ["Application.Read.All"], "POST", "/$batch", body)
    by_id = {r["id"]: r for r in resp.json()["responses"]}
    assert resp.status_code == 200 and by_id["1"]["status"] == 200
    assert by_id["2"]["status"] == 403
    assert by_id["2"]["body"]["error"]["code"] == "Authentication_MSGraphPermissionMissing"


async def test_custom_security_attributes_are_null_without_the_attribute_permission(sim: GraphSim) -> None:
    select = f"/servicePrincipals/{SP_ID}?$select=id,customSecurityAttributes"
    hidden = await call(sim, ["Application.Read.All"], "GET", select)
    assert hidden.status_code == 200 and hidden.json()["customSecurityAttributes"] is None
    listed = await call(
        sim, ["Application.Read.All"], "GET", "/servicePrincipals?$select=id,customSecurityAttributes"
    )
    assert [sp["customSecurityAttributes"] for sp in listed.json()["value"]] == [None]
    assert sim.tenant.service_principals[SP_ID]["customSecurityAttributes"] == ATTRIBUTES  # state untouched
    shown = await call(sim, ["Application.Read.All", "CustomSecAttributeAssignment.Read.All"], "GET", select)
    assert shown.json()["customSecurityAttributes"] == ATTRIBUTES


async def test_a_role_assignable_group_also_needs_role_management(sim: GraphSim) -> None:
    body = {
        "displayName": "R",
        "mailNickname": "r",
        "mailEnabled": False,
        "securityEnabled": True,
        "isAssignableToRole": True,
    }
    url = "/groups(uniqueName='r')"
    assert_graph_error(await call(sim, ["Group.ReadWrite.All"], "PATCH", url, body), 403, DENIED[0])
    assert sim.tenant.groups == {}
    both = await call(sim, ["Group.ReadWrite.All", "RoleManagement.ReadWrite.Directory"], "PATCH", url, body)
    assert both.status_code in (200, 201, 204), both.text


async def test_control_plane_mints_app_only_tokens(ctl: httpx.AsyncClient, sim: GraphSim) -> None:
    app_id, object_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"client": "PIM Warden", "roles": ["Application.Read.All"], "appId": app_id, "objectId": object_id}
    resp = await ctl.post("/tokens", json=body)
    assert resp.status_code == 200
    answer = resp.json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    claims = claims_of(answer["access_token"])
    assert claims == {
        "aud": "https://graph.microsoft.com",
        "idtyp": "app",
        "oid": object_id,
        "appid": app_id,
        "app_displayname": "PIM Warden",
        "roles": ["Application.Read.All"],
    }
    assert answer["access_token"] == mint_token(
        ["Application.Read.All"], client="PIM Warden", app_id=app_id, object_id=object_id
    )
    async with httpx.AsyncClient(
        transport=asgi_transport(sim),
        base_url=IN_PROCESS_BASE,
        headers={"Authorization": f"Bearer {answer['access_token']}"},
    ) as client:
        assert (await client.get("/servicePrincipals")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"client": "", "roles": []},
        {"client": "x", "roles": "Application.Read.All"},
        {"client": "x", "roles": [1]},
        {"client": "x", "roles": [], "appId": "nope"},
        {"client": "x", "roles": [], "extra": 1},
        [1],
    ],
)
async def test_bad_token_requests_are_400(ctl: httpx.AsyncClient, body: Any) -> None:
    assert_graph_error(await ctl.post("/tokens", json=body), 400, "BadRequest")


def test_the_readme_table_lists_every_rule_as_the_code_has_it() -> None:
    readme = (Path(__file__).resolve().parents[2] / "graphsim" / "README.md").read_text(encoding="utf-8")
    for (method, template), rule in RULES.items():
        options = " or ".join(" + ".join(sorted(option)) for option in rule.accepted)
        accepted = options or "none (delegated only)"
        assert f"| `{method} {template}` | {accepted} | `{rule.doc}` |" in readme, (method, template)
