"""Delta rounds for groups and service principals: full sync, nextLink pages, deltaLink changes
(create/update/delete and members@delta), $deltatoken=latest, id filters, expired and bad tokens."""

from __future__ import annotations

import uuid

from tests.graphsim.conftest import assert_graph_error, seed

NEW_GROUP = {"displayName": "G", "mailNickname": "g", "mailEnabled": False, "securityEnabled": True}


async def _drain(http, url, headers=None):
    """Follow nextLinks to the deltaLink; returns (items, deltaLink)."""
    items = []
    while True:
        body = (await http.get(url, headers=headers or {})).json()
        assert not ("@odata.nextLink" in body and "@odata.deltaLink" in body)
        items += body["value"]
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"]
        url = body["@odata.nextLink"]


def _sps(n):
    return [
        {
            "id": str(uuid.UUID(int=i + 1)),
            "appId": str(uuid.UUID(int=1000 + i)),
            "displayName": f"App {i}",
            "tags": ["PrivateAccessNonWebApplication"],
        }
        for i in range(n)
    ]


async def test_sp_delta_paged_full_sync_then_changes(http, ctl):
    sps = _sps(5)
    await seed(ctl, {"servicePrincipals": sps})
    items, delta_link = await _drain(http, "/servicePrincipals/delta()", {"Prefer": "odata.maxpagesize=2"})
    assert [i["id"] for i in items] == [sp["id"] for sp in sps]
    assert (
        await http.patch(f"/servicePrincipals/{sps[1]['id']}", json={"tags": ["HighValue"]})
    ).status_code == 204
    assert (await http.delete(f"/servicePrincipals/{sps[2]['id']}")).status_code == 204
    changes, next_link = await _drain(http, delta_link, {"Prefer": "return=minimal"})
    assert changes == [
        {"id": sps[1]["id"], "tags": ["HighValue"]},
        {"id": sps[2]["id"], "@removed": {"reason": "changed"}},
    ]
    assert (await _drain(http, next_link))[0] == []


async def test_group_delta_round_trip_create_update_delete_members(http, ctl):
    user = {"id": str(uuid.uuid4()), "displayName": "U", "userPrincipalName": "u@contoso.com"}
    await seed(ctl, {"users": [user]})
    kept = (await http.post("/groups", json={**NEW_GROUP, "displayName": "Kept"})).json()
    doomed = (await http.post("/groups", json={**NEW_GROUP, "displayName": "Doomed"})).json()
    _, link = await _drain(http, "/groups/delta?$select=displayName,members")
    created = (await http.post("/groups", json={**NEW_GROUP, "displayName": "New"})).json()
    await http.patch(f"/groups/{kept['id']}", json={"displayName": "Kept 2"})
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{user['id']}"}
    await http.post(f"/groups/{kept['id']}/members/$ref", json=ref)
    await http.delete(f"/groups/{doomed['id']}")
    changes, link = await _drain(http, link)
    by_id = {c["id"]: c for c in changes}
    assert set(by_id) == {created["id"], kept["id"], doomed["id"]}
    assert by_id[created["id"]] == {"id": created["id"], "displayName": "New", "members@delta": []}
    assert by_id[kept["id"]] == {
        "id": kept["id"],
        "displayName": "Kept 2",
        "members@delta": [{"@odata.type": "#microsoft.graph.user", "id": user["id"]}],
    }
    assert by_id[doomed["id"]] == {"id": doomed["id"], "@removed": {"reason": "changed"}}
    await http.delete(f"/groups/{kept['id']}/members/{user['id']}/$ref")
    changes, _ = await _drain(http, link)
    assert changes == [
        {
            "id": kept["id"],
            "displayName": "Kept 2",
            "members@delta": [
                {"@odata.type": "#microsoft.graph.user", "id": user["id"], "@removed": {"reason": "deleted"}}
            ],
        }
    ]


async def test_group_delta_through_sdk(http, sdk):
    group = (await http.post("/groups", json=NEW_GROUP)).json()
    first = await sdk.groups.delta.get()
    assert [g.id for g in first.value] == [group["id"]] and first.odata_delta_link
    await http.patch(f"/groups/{group['id']}", json={"description": "d"})
    changed = await sdk.groups.delta.with_url(first.odata_delta_link).get()
    assert [(g.id, g.description) for g in changed.value] == [(group["id"], "d")]


async def test_delta_latest_and_id_filter(http, ctl):
    sps = _sps(3)
    await seed(ctl, {"servicePrincipals": sps})
    latest = (await http.get("/servicePrincipals/delta", params={"$deltatoken": "latest"})).json()
    assert latest["value"] == [] and "$deltatoken=" in latest["@odata.deltaLink"]
    await http.patch(f"/servicePrincipals/{sps[0]['id']}", json={"displayName": "Renamed"})
    changes, _ = await _drain(http, latest["@odata.deltaLink"])
    assert [c["id"] for c in changes] == [sps[0]["id"]]
    only = f"id eq '{sps[1]['id']}' or id eq '{sps[2]['id']}'"
    items, _ = await _drain(http, f"/servicePrincipals/delta?$filter={only}")
    assert [i["id"] for i in items] == [sps[1]["id"], sps[2]["id"]]
    tag = await http.get("/servicePrincipals/delta", params={"$filter": "tags/any(t:t eq 'x')"})
    assert_graph_error(tag, 400, "Request_UnsupportedQuery")


async def test_expired_and_invalid_tokens(http, ctl):
    _, link = await _drain(http, "/groups/delta")
    assert_graph_error(
        await http.get("/groups/delta", params={"$deltatoken": "garbage"}), 400, "Request_BadRequest"
    )
    await ctl.post("/clock", json={"advance": "P8D"})
    expired = await http.get(link)
    assert_graph_error(expired, 410, "syncStateNotFound")
    assert expired.headers["location"].endswith("/v1.0/groups/delta")


async def test_service_principals_carry_the_default_property_set_in_list_get_and_delta(http, ctl):
    # serviceprincipal.md (JSON representation) and serviceprincipal-get.md example 1: every default
    # property is present, with null or [] when nothing set it; customSecurityAttributes only on $select.
    from graphsim.directory.shapes import SP_DEFAULT

    sps = _sps(2)
    await seed(ctl, {"servicePrincipals": sps})
    listed = (await http.get("/servicePrincipals")).json()["value"]
    got = (await http.get(f"/servicePrincipals/{sps[0]['id']}")).json()
    full, link = await _drain(http, "/servicePrincipals/delta")
    await http.patch(f"/servicePrincipals/{sps[0]['id']}", json={"tags": ["HighValue"]})
    changed, _ = await _drain(http, link)
    for entry in [*listed, got, *full, *changed]:
        assert set(SP_DEFAULT) <= set(entry), sorted(set(SP_DEFAULT) - set(entry))
        assert "customSecurityAttributes" not in entry
    assert (full[0]["addIns"], full[0]["appDescription"], full[0]["info"]["logoUrl"]) == ([], None, None)
    assert changed[0]["tags"] == ["HighValue"] and changed[0]["addIns"] == []
