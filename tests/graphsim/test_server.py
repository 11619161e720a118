"""The same simulator served by uvicorn on a loopback port: raw HTTP and the real msgraph-sdk."""

from __future__ import annotations

import httpx
from msgraph.generated.models.group import Group

from graphsim.testing import graph_client


async def test_sdk_against_real_server(server):
    async with httpx.AsyncClient(base_url=server.root) as raw:
        await raw.post("/_sim/reset")
        await raw.post(
            "/_sim/seed",
            json={
                "users": [
                    {
                        "id": "6e7b768e-07e2-4810-8459-485f84f8f204",
                        "displayName": "Ada",
                        "userPrincipalName": "ada@contoso.com",
                    }
                ]
            },
        )
    client = graph_client(server.base_url)
    users = await client.users.get()
    assert [u.user_principal_name for u in users.value] == ["ada@contoso.com"]
    group = await client.groups.post(
        Group(display_name="S", mail_nickname="s", mail_enabled=False, security_enabled=True)
    )
    assert (await client.groups.by_group_id(group.id).get()).display_name == "S"


async def test_raw_http_against_real_server(server):
    async with httpx.AsyncClient(base_url=server.base_url) as raw:
        unauth = await raw.get("/users")
        assert unauth.status_code == 401
        assert unauth.json()["error"]["code"] == "InvalidAuthenticationToken"
        ok = await raw.get("/servicePrincipals", headers={"Authorization": "Bearer t"})
        assert ok.status_code == 200 and ok.json()["@odata.context"].endswith("#servicePrincipals")
