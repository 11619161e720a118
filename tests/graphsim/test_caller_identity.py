"""Who made a change: directory audit `initiatedBy` names the app a JWT bearer token names (claims read
without checking the signature), the fixed app for an opaque token,
and the delegated user of `x-graphsim-user` for PIM requests, as before."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from graphsim.app import GraphSim, caller_app
from graphsim.directory.audit import CALLER_APP
from graphsim.testing import IN_PROCESS_BASE, asgi_transport
from graphsim.tokens import claims_of

SP = "0b6a3c7e-8f1d-4e2a-9c5b-7d8e9f0a1b2c"
APP = "f3e2d1c0-b9a8-4765-8432-10fedcba9876"
GROUP_BODY = {"displayName": "Finance", "mailNickname": "finance", "mailEnabled": False,
              "securityEnabled": True}


def jwt(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """An unsigned JWT (graphsim reads claims, never the signature)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part(header or {'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def client(sim: GraphSim, token: str, **headers: str) -> httpx.AsyncClient:
    auth = {"Authorization": f"Bearer {token}", **headers}
    return httpx.AsyncClient(transport=asgi_transport(sim), base_url=IN_PROCESS_BASE, headers=auth)


async def audits(http: httpx.AsyncClient, activity: str) -> list[dict[str, Any]]:
    body = (await http.get("/auditLogs/directoryAudits")).json()
    return [e for e in body["value"] if e["activityDisplayName"] == activity]


async def test_an_app_token_is_the_initiator_of_directory_changes(sim: GraphSim) -> None:
    token = jwt({"oid": SP.upper(), "appid": APP, "app_displayname": "Payroll sync", "idtyp": "app"})
    async with client(sim, token) as http:
        assert (await http.post("/groups", json=GROUP_BODY)).status_code == 201
        [entry] = await audits(http, "Add group")
    assert entry["initiatedBy"] == {
        "user": None,
        "app": {"appId": APP, "displayName": "Payroll sync", "servicePrincipalId": SP,
                "servicePrincipalName": None},
    }


async def test_a_v2_token_names_the_app_by_azp(sim: GraphSim) -> None:
    async with client(sim, jwt({"oid": SP, "azp": APP})) as http:
        assert (await http.post("/groups", json=GROUP_BODY)).status_code == 201
        [entry] = await audits(http, "Add group")
    app = entry["initiatedBy"]["app"]
    assert (app["appId"], app["servicePrincipalId"]) == (APP, SP)


async def test_an_opaque_token_keeps_the_fixed_caller(sim: GraphSim) -> None:
    async with client(sim, "admin") as http:
        assert (await http.post("/groups", json=GROUP_BODY)).status_code == 201
        [entry] = await audits(http, "Add group")
    assert entry["initiatedBy"] == {"user": None, "app": CALLER_APP}


def test_tokens_that_are_not_app_jwts_name_no_caller() -> None:
    assert caller_app(claims_of("graphsim-token")) is None
    assert caller_app(claims_of("a.!!!not-base64!!!.c")) is None
    assert caller_app(claims_of("a.b.c")) is None
    assert caller_app(claims_of(jwt({"appid": APP}))) is None  # no object id: nothing to name
    assert caller_app(claims_of(jwt({"oid": SP, "appid": APP})))["servicePrincipalId"] == SP  # type: ignore[index]


async def test_the_caller_does_not_leak_into_the_next_request(sim: GraphSim) -> None:
    async with client(sim, jwt({"oid": SP, "appid": APP})) as app, client(sim, "admin") as admin:
        assert (await app.post("/groups", json=GROUP_BODY)).status_code == 201
        other = {**GROUP_BODY, "mailNickname": "finance2", "displayName": "Finance 2"}
        assert (await admin.post("/groups", json=other)).status_code == 201
        entries = await audits(admin, "Add group")
    by_group = {e["targetResources"][0]["displayName"]: e["initiatedBy"]["app"] for e in entries}
    assert by_group["Finance"]["servicePrincipalId"] == SP
    assert by_group["Finance 2"] == CALLER_APP


async def _change_member_policy(http: httpx.AsyncClient, group_id: str) -> None:
    scope = f"scopeId eq '{group_id}' and scopeType eq 'Group' and roleDefinitionId eq 'member'"
    found = await http.get("/policies/roleManagementPolicyAssignments",
                           params={"$filter": scope, "$expand": "policy($expand=rules)"})
    assert found.status_code == 200, found.text
    policy = found.json()["value"][0]["policy"]
    rule = next(r for r in policy["rules"] if r["id"] == "Expiration_EndUser_Assignment")
    r = await http.patch(f"/policies/roleManagementPolicies/{policy['id']}/rules/{rule['id']}",
                         json={**rule, "maximumDuration": "PT2H"})
    assert r.status_code in (200, 204), r.text


async def test_pim_entries_name_the_app_token_the_user_or_ms_pim(sim: GraphSim) -> None:
    user_sp = "c277c8cb-6bb7-42e5-a17f-0add9a718151"
    async with client(sim, "admin") as admin:
        seeded = await admin.post("/groups", json=GROUP_BODY)
        group_id = seeded.json()["id"]
    async with client(sim, jwt({"oid": SP, "appid": APP, "app_displayname": "Payroll sync"})) as app:
        await _change_member_policy(app, group_id)
        [by_app] = await audits(app, "Update role setting in PIM")
    assert by_app["initiatedBy"]["user"] is None
    assert by_app["initiatedBy"]["app"]["servicePrincipalId"] == SP
    async with client(sim, jwt({"oid": SP, "appid": APP}), **{"x-graphsim-user": user_sp}) as delegated:
        await _change_member_policy(delegated, group_id)
        entries = await audits(delegated, "Update role setting in PIM")
    assert entries[0]["initiatedBy"]["app"] is None and entries[0]["initiatedBy"]["user"]["id"] == user_sp
    async with client(sim, "admin") as admin:
        await _change_member_policy(admin, group_id)
        newest = (await audits(admin, "Update role setting in PIM"))[0]
    assert newest["initiatedBy"]["app"]["displayName"] == "MS-PIM"
    assert newest["initiatedBy"]["app"]["servicePrincipalId"] is None
