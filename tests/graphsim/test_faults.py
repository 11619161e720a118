"""Each fault on demand: throttling (reads, writes, directory audits), error_rate, lost responses,
replication delay, latency; and that faults are off by default and reset."""

from __future__ import annotations

import asyncio
import time
import uuid

from tests.graphsim.conftest import assert_graph_error, seed

GROUP = {"displayName": "F", "mailNickname": "f", "mailEnabled": False, "securityEnabled": True}


async def test_read_throttle_answers_429_like_graph(http, ctl):
    await ctl.post("/faults", json={"throttle": {"read_units_per_10s": 4}})
    statuses = [(await http.get("/users")).status_code for _ in range(3)]  # GET users costs 2
    assert statuses == [200, 200, 429]
    resp = await http.get("/users")
    error = assert_graph_error(resp, 429, "TooManyRequests")
    assert error["message"] == "Please retry again later."
    assert error["innerError"]["code"] == "429" and error["innerError"]["status"] == "429"
    assert int(resp.headers["retry-after"]) >= 1
    assert resp.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert "x-ms-throttle-scope" in resp.headers


async def test_select_and_small_top_lower_the_cost(http, ctl):
    await ctl.post("/faults", json={"throttle": {"read_units_per_10s": 3}})
    ok = await http.get("/users", params={"$select": "id", "$top": "5"})
    assert ok.headers["x-ms-resource-unit"] == "1"


async def test_write_budget_is_separate(http, ctl):
    await ctl.post("/faults", json={"throttle": {"writes_per_150s": 1}})
    assert (await http.post("/groups", json=GROUP)).status_code == 201
    resp = await http.post("/groups", json={**GROUP, "mailNickname": "f2"})
    assert_graph_error(resp, 429, "TooManyRequests")
    assert resp.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
    assert (await http.get("/groups")).status_code == 200


async def test_directory_audits_limited_to_five_per_ten_seconds(http, ctl):
    await ctl.post("/faults", json={"throttle": True})
    statuses = [(await http.get("/auditLogs/directoryAudits")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert (await http.get("/users")).status_code == 200


async def test_batch_inner_requests_are_throttled_individually(http, ctl):
    await ctl.post("/faults", json={"throttle": {"read_units_per_10s": 2}})
    body = {"requests": [{"id": str(i), "method": "GET", "url": "/groups"} for i in range(3)]}
    resp = await http.post("/$batch", json=body)
    assert resp.status_code == 200
    statuses = sorted(r["status"] for r in resp.json()["responses"])
    assert statuses == [200, 200, 429]
    throttled = next(r for r in resp.json()["responses"] if r["status"] == 429)
    assert "Retry-After" in throttled["headers"]


async def test_error_rate_is_reproducible_with_seed(http, ctl):
    async def run():
        await ctl.post("/faults", json={"error_rate": 0.5, "seed": 11})
        return [(await http.get("/users")).status_code for _ in range(20)]

    first, second = await run(), await run()
    assert first == second and set(first) <= {200, 503, 504} and {503, 504} & set(first) and 200 in first


async def test_lost_response_applies_the_write(http, ctl):
    await ctl.post("/faults", json={"lost_response_rate": 1.0})
    resp = await http.post("/groups", json=GROUP)
    assert resp.status_code in (503, 504)
    await ctl.post("/faults", json={"lost_response_rate": 0})
    assert len((await http.get("/groups")).json()["value"]) == 1


async def test_lost_response_makes_the_sdk_retry_into_a_duplicate(ctl, sim):
    from msgraph.generated.models.group import Group

    from graphsim.testing import asgi_transport, graph_client

    await ctl.post("/faults", json={"lost_response_rate": 0.5, "seed": 3})
    client = graph_client(asgi_transport(sim), max_retries=5)
    await client.groups.post(
        Group(display_name="D", mail_nickname="d", mail_enabled=False, security_enabled=True)
    )
    assert len(sim.tenant.groups) >= 2  # the first POST was applied, then retried after a 503/504


async def test_replication_delay_hides_new_objects(http, ctl):
    user = str(uuid.uuid4())
    await seed(ctl, {"users": [{"id": user, "displayName": "U", "userPrincipalName": "u@contoso.com"}]})
    await ctl.post("/faults", json={"replication_delay_s": 0.3})
    group = (await http.post("/groups", json=GROUP)).json()
    assert_graph_error(await http.get(f"/groups/{group['id']}"), 404, "Request_ResourceNotFound")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{user}"}
    assert_graph_error(
        await http.post(f"/groups/{group['id']}/members/$ref", json=ref), 404, "Request_ResourceNotFound"
    )
    assert (await http.get("/groups")).json()["value"] == []
    await asyncio.sleep(0.35)
    assert (await http.get(f"/groups/{group['id']}")).status_code == 200


async def test_replication_delay_also_ends_with_the_simulated_clock(http, ctl):
    await ctl.post("/faults", json={"replication_delay_s": 60})
    group = (await http.post("/groups", json=GROUP)).json()
    assert (await http.get(f"/groups/{group['id']}")).status_code == 404
    await ctl.post("/clock", json={"advance": "PT61S"})
    assert (await http.get(f"/groups/{group['id']}")).status_code == 200


async def test_latency(http, ctl):
    await ctl.post("/faults", json={"latency_ms": 50})
    started = time.perf_counter()
    await http.get("/users")
    assert time.perf_counter() - started >= 0.05


async def test_faults_validated_and_reset(http, ctl):
    for bad in ({"error_rate": 2}, {"nope": 1}, {"latency_ms": "x"}, {"throttle": "yes"}):
        assert (await ctl.post("/faults", json=bad)).status_code == 400
    await ctl.post("/faults", json={"error_rate": 1.0})
    assert (await http.get("/users")).status_code in (503, 504)
    await ctl.post("/reset")
    assert (await http.get("/users")).status_code == 200


async def test_unique_name_is_enforced_on_writes_while_reads_do_not_show_the_group(http, ctl):
    # group-upsert.md: a uniqueName that already exists is an update (204), never a second group;
    # Entra checks the alternate key when writing, whatever replication lets reads show.
    await ctl.post("/faults", json={"replication_delay_s": 60})
    url = "/groups(uniqueName='pimwarden-x')"
    body = {k: GROUP[k] for k in ("displayName", "mailEnabled", "mailNickname", "securityEnabled")}
    first = await http.patch(url, json=body, headers={"Prefer": "create-if-missing"})
    assert first.status_code == 201
    assert (await http.get(url)).status_code == 404  # still hidden from reads
    prefer = {"Prefer": "create-if-missing"}
    again = await http.patch(url, json={**body, "description": "again"}, headers=prefer)
    assert again.status_code == 204
    duplicate = await http.post("/groups", json={**body, "uniqueName": "PIMWARDEN-X"})
    assert_graph_error(duplicate, 400, "Request_BadRequest")
    await ctl.post("/clock", json={"advance": "PT61S"})
    holders = [g for g in (await http.get("/groups")).json()["value"] if g.get("uniqueName") == "pimwarden-x"]
    assert [(g["id"], g["description"]) for g in holders] == [(first.json()["id"], "again")]
