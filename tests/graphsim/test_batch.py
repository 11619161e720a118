"""JSON batching: per-request status, dependsOn and 424, limits, malformed batches, inner headers."""

from __future__ import annotations

import uuid

from tests.graphsim.conftest import assert_graph_error, seed

GROUP = {"displayName": "B", "mailNickname": "b", "mailEnabled": False, "securityEnabled": True}


async def test_batch_with_depends_on_and_failed_dependency(http, ctl):
    user = str(uuid.uuid4())
    await seed(ctl, {"users": [{"id": user, "displayName": "U", "userPrincipalName": "u@contoso.com"}]})
    body = {
        "requests": [
            {
                "id": "1",
                "method": "POST",
                "url": "/groups",
                "headers": {"Content-Type": "application/json"},
                "body": GROUP,
            },
            {"id": "2", "method": "GET", "url": f"users/{user}?$select=id", "dependsOn": ["1"]},
            {"id": "3", "method": "GET", "url": "/groups/00000000-0000-4000-8000-000000000001"},
            {"id": "4", "method": "GET", "url": "/users", "dependsOn": ["3"]},
            {
                "id": "5",
                "method": "GET",
                "url": "/servicePrincipals/$count",
                "headers": {"ConsistencyLevel": "eventual"},
            },
        ]
    }
    resp = await http.post("/$batch", json=body)
    assert resp.status_code == 200
    by_id = {r["id"]: r for r in resp.json()["responses"]}
    assert by_id["1"]["status"] == 201 and by_id["1"]["body"]["displayName"] == "B"
    assert by_id["2"]["status"] == 200 and by_id["2"]["body"]["id"] == user
    assert by_id["3"]["status"] == 404 and by_id["3"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert by_id["4"]["status"] == 424
    assert by_id["5"]["status"] == 200 and by_id["5"]["body"] == "0"


async def test_malformed_batches_are_400(http):
    too_many = {"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)]}
    dup = {"requests": [{"id": "1", "method": "GET", "url": "/users"}] * 2}
    no_type = {"requests": [{"id": "1", "method": "POST", "url": "/groups", "body": GROUP}]}
    bad_dep = {"requests": [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}]}
    for body in (too_many, dup, no_type, bad_dep, {"nope": 1}, [1]):
        assert_graph_error(await http.post("/$batch", json=body), 400, "BadRequest")


async def test_inner_requests_are_counted_in_stats(http, ctl):
    body = {"requests": [{"id": str(i), "method": "GET", "url": "/users"} for i in range(3)]}
    await http.post("/$batch", json=body)
    stats = (await ctl.get("/stats")).json()
    assert stats["by_route"]["users.list"] == 3 and stats["by_route"]["$batch"] == 1
