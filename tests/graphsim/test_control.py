"""The control plane: seed/state/reset, clock, requests and stats, access decisions, tenants, auth."""

from __future__ import annotations

import uuid

from graphsim.tenants import demo, generate, load
from tests.graphsim.conftest import assert_graph_error, seed

SP = {
    "id": str(uuid.uuid4()),
    "appId": str(uuid.uuid4()),
    "displayName": "App",
    "appRoleAssignmentRequired": True,
}
USER = {"id": str(uuid.uuid4()), "displayName": "U", "userPrincipalName": "u@contoso.com"}
GROUP = {"id": str(uuid.uuid4()), "displayName": "G", "mailNickname": "g"}


async def test_seed_state_reset(ctl):
    await seed(ctl, {"users": [USER], "groups": [GROUP], "members": {GROUP["id"]: [USER["id"]]}})
    state = (await ctl.get("/state")).json()
    assert [u["id"] for u in state["users"]] == [USER["id"]] and state["members"] == {
        GROUP["id"]: [USER["id"]]
    }
    assert (await ctl.post("/seed", json={"bogus": []})).status_code == 400
    await ctl.post("/reset")
    assert (await ctl.get("/state")).json()["users"] == []


async def test_clock(ctl):
    now = (await ctl.post("/clock", json={"now": "2025-06-01T00:00:00Z"})).json()["now"]
    assert now == "2025-06-01T00:00:00Z"
    assert (await ctl.post("/clock", json={"advance": "PT31M"})).json()["now"] == "2025-06-01T00:31:00Z"
    for bad in ({"advance": "0:30:00"}, {"now": "2025-06-01T00:00:00"}, {}, {"advance": "PT1M", "now": "x"}):
        assert (await ctl.post("/clock", json=bad)).status_code == 400


async def test_requests_and_stats(http, ctl):
    await http.get("/users")
    await http.get("/groups/00000000-0000-4000-8000-000000000001")
    log = (await ctl.get("/requests")).json()["requests"]
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("GET", "/users", 200),
        ("GET", "/groups/00000000-0000-4000-8000-000000000001", 404),
    ]
    stats = (await ctl.get("/stats")).json()
    assert stats["total"] == 2 and stats["by_request"]["GET groups.get 404"] == 1


async def test_the_log_reads_in_parts_after_a_sequence_number(http, ctl):
    await http.get("/users")
    first = (await ctl.get("/requests")).json()
    await http.get("/groups")
    later = (await ctl.get("/requests", params={"after": first["logged"]})).json()
    assert [r["path"] for r in later["requests"]] == ["/groups"] and later["logged"] == first["logged"] + 1
    assert (await ctl.get("/requests", params={"after": "x"})).status_code == 400


async def test_access_reasons(http, ctl):
    await seed(ctl, {"users": [USER], "servicePrincipals": [SP], "groups": [GROUP]})
    params = {"user": USER["id"], "app": SP["id"]}
    assert (await ctl.get("/access", params=params)).json()["allowed"] is False
    body = {
        "principalId": GROUP["id"],
        "resourceId": SP["id"],
        "appRoleId": "00000000-0000-0000-0000-000000000000",
    }
    assert (await http.post(f"/servicePrincipals/{SP['id']}/appRoleAssignedTo", json=body)).status_code == 201
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{USER['id']}"}
    await http.post(f"/groups/{GROUP['id']}/members/$ref", json=ref)
    decision = (await ctl.get("/access", params=params)).json()
    assert decision["allowed"] is True and decision["group"] == GROUP["id"]
    await http.patch(f"/servicePrincipals/{SP['id']}", json={"appRoleAssignmentRequired": False})
    assert (await ctl.get("/access", params=params)).json()["reason"] == "assignment not required"


async def test_missing_token_is_401(http):
    resp = await http.get("/users", headers={"Authorization": ""})
    assert_graph_error(resp, 401, "InvalidAuthenticationToken")


async def test_client_request_id_is_echoed(http):
    resp = await http.get("/groups/nope", headers={"client-request-id": "abc-123"})
    assert resp.headers["client-request-id"] == "abc-123"
    assert resp.json()["error"]["innerError"]["client-request-id"] == "abc-123"
    assert resp.headers["request-id"] == resp.json()["error"]["innerError"]["request-id"]


def test_demo_tenant_has_private_access_apps_and_people():
    body = demo()
    tags = [sp["tags"] for sp in body["servicePrincipals"]]
    assert sum("PrivateAccessNonWebApplication" in t for t in tags) >= 4
    assert any("HighValue" in t for t in tags)
    assert any(sp["appRoles"] for sp in body["servicePrincipals"])
    assert any("customSecurityAttributes" in sp for sp in body["servicePrincipals"])
    upns = [u["userPrincipalName"] for u in body["users"]]
    assert (
        any("breakglass" in u for u in upns)
        and any("operator" in u for u in upns)
        and any("#EXT#" in u for u in upns)
    )


def test_generate_fifty_thousand_is_fast():
    import time

    started = time.perf_counter()
    tenant = load("generate:50000")
    assert len(tenant.service_principals) == 50000
    assert time.perf_counter() - started < 10
    assert len(generate(10)["servicePrincipals"]) == 10
