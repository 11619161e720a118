"""Contract tests of the Graph gateway: the real msgraph-sdk against graphsim, asserting what Graph ends up
holding (graphsim's state) and what the gateway answers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from kiota_abstractions.base_request_configuration import RequestConfiguration

from graphsim.app import GraphSim, build_app
from graphsim.tenants import load
from shared.domain.ids import DEFAULT_APP_ROLE_ID, GroupId, PrincipalId
from shared.domain.model import TicketInfo
from shared.engine.ports import DeltaTokenExpired
from shared.graph.calls import CallRunner
from shared.graph.client import build_graph_client
from shared.graph.errors import PermanentGraphError, TransientGraphError
from shared.graph.gateway import GraphGateway
from tests.tokens import admin_headers, product_token

BASE = "https://graph.local/v1.0"


class StaticCredential:
    """PIM Warden's token: exactly the manifest's permissions for the attribute selector."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(product_token(attribute=True), int(time.time()) + 3600)


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def sim() -> GraphSim:
    return build_app(load("demo"))


@pytest.fixture
def gateway(sim: GraphSim) -> GraphGateway:
    client = build_graph_client(BASE, StaticCredential(), transport=httpx.ASGITransport(app=sim))
    return GraphGateway(client, CallRunner(base_delay_s=0.0, sleep=_no_sleep), replication_budget_s=5.0)


@pytest.fixture
async def ctl(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim), base_url="https://graph.local/_sim"
    ) as c:
        yield c


@pytest.fixture
async def raw(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    headers = admin_headers()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url=BASE, headers=headers) as c:
        yield c


async def _state(ctl: httpx.AsyncClient) -> dict[str, Any]:
    return (await ctl.get("/state")).json()


def _groups_named(state: dict[str, Any], unique_name: str) -> list[dict[str, Any]]:
    return [g for g in state["groups"] if g.get("uniqueName") == unique_name]


async def test_delta_round_then_changes_only(gateway: GraphGateway, raw: httpx.AsyncClient) -> None:
    first = await gateway.service_principal_delta(None)
    assert {sp.display_name for sp in first.changed} >= {"FinReport SQL", "Trading Desk Portal"}
    quiet = await gateway.service_principal_delta(first.delta_link)
    assert quiet.changed == () and quiet.removed == ()

    fin = next(sp for sp in first.changed if sp.display_name == "FinReport SQL")
    assert (await raw.patch(f"/servicePrincipals/{fin.id}", json={"tags": ["HighValue"]})).status_code == 204
    changed = await gateway.service_principal_delta(quiet.delta_link)
    assert [(sp.id, sp.tags) for sp in changed.changed] == [(fin.id, ("HighValue",))]


async def test_expired_delta_link_is_reported(gateway: GraphGateway) -> None:
    with pytest.raises(DeltaTokenExpired):
        await gateway.service_principal_delta(f"{BASE}/servicePrincipals/delta?$deltatoken=not-a-token")


async def test_ensure_group_is_keyed_by_unique_name(gateway: GraphGateway, ctl: httpx.AsyncClient) -> None:
    made = await gateway.ensure_group(
        "pw-app-role", "App-User-SecureAccess", "d", "appuser", is_assignable_to_role=False
    )
    again = await gateway.ensure_group(
        "pw-app-role", "App-User-SecureAccess", "d", "appuser", is_assignable_to_role=False
    )
    assert made.id == again.id
    assert len(_groups_named(await _state(ctl), "pw-app-role")) == 1


async def test_lost_responses_never_duplicate_a_group(gateway: GraphGateway, ctl: httpx.AsyncClient) -> None:
    await ctl.post("/faults", json={"lost_response_rate": 1.0, "seed": 3})
    with pytest.raises(TransientGraphError):  # every answer is lost: the gateway gives up for this run
        await gateway.ensure_group(
            "pw-lost", "Lost-User-SecureAccess", "d", "lost", is_assignable_to_role=False
        )
    await ctl.post("/faults", json={"lost_response_rate": 0.0})
    found = await gateway.ensure_group(
        "pw-lost", "Lost-User-SecureAccess", "d", "lost", is_assignable_to_role=False
    )
    assert [g["id"] for g in _groups_named(await _state(ctl), "pw-lost")] == [found.id]


async def test_new_group_waits_out_replication_delay(
    gateway: GraphGateway, ctl: httpx.AsyncClient, sim: GraphSim
) -> None:
    await ctl.post("/faults", json={"replication_delay_s": 0.3})
    group = await gateway.ensure_group(
        "pw-slow", "Slow-User-SecureAccess", "d", "slow", is_assignable_to_role=False
    )
    sp = next(
        sp
        for sp in (await gateway.service_principal_delta(None)).changed
        if sp.display_name == "FinReport SQL"
    )
    # The assignment refers to the group before it replicated: the gateway waits instead of failing.
    real_sleep = GraphGateway(gateway.client, gateway.runner, replication_budget_s=5.0)
    assert await real_sleep.assign_group_to_app(sp.id, group.id, DEFAULT_APP_ROLE_ID) is not None
    assert len(_groups_named(await _state(ctl), "pw-slow")) == 1


async def test_policy_ids_change_when_the_group_is_onboarded(gateway: GraphGateway) -> None:
    group = await gateway.ensure_group(
        "pw-pol", "Pol-User-SecureAccess", "d", "pol", is_assignable_to_role=False
    )
    before = await gateway.group_policies(group.id)
    assert before.member is not None and before.owner is not None
    rule = dict(before.member.rules["Expiration_EndUser_Assignment"]) | {"maximumDuration": "PT30M"}
    await gateway.patch_policy_rule(before.member.policy_id, "Expiration_EndUser_Assignment", rule)
    after = await gateway.group_policies(group.id)
    assert after.member is not None and after.member.policy_id != before.member.policy_id
    assert after.member.rules["Expiration_EndUser_Assignment"]["maximumDuration"] == "PT30M"


async def test_app_assignment_duplicate_is_success(gateway: GraphGateway, ctl: httpx.AsyncClient) -> None:
    sps = (await gateway.service_principal_delta(None)).changed
    sp = next(s for s in sps if s.display_name == "FinReport SQL")
    group = await gateway.ensure_group(
        "pw-ara", "Ara-User-SecureAccess", "d", "ara", is_assignable_to_role=False
    )
    first = await gateway.assign_group_to_app(sp.id, group.id, DEFAULT_APP_ROLE_ID)
    assert first is not None
    assert await gateway.assign_group_to_app(sp.id, group.id, DEFAULT_APP_ROLE_ID) is None
    assignments = await gateway.app_role_assignments(sp.id)
    assert [(a.principal_id, a.app_role_id) for a in assignments] == [(group.id, DEFAULT_APP_ROLE_ID)]
    await gateway.require_assignment(sp.id)
    reread = await gateway.get_service_principal(sp.id)
    assert reread is not None and reread.app_role_assignment_required


async def test_eligibility_grant_is_idempotent_and_carries_the_ticket(
    gateway: GraphGateway, ctl: httpx.AsyncClient, sim: GraphSim
) -> None:
    user = PrincipalId(
        next(u["id"] for u in (await _state(ctl))["users"] if u["userPrincipalName"].startswith("ada@"))
    )
    group = await gateway.ensure_group(
        "pw-elig", "Elig-User-SecureAccess", "d", "elig", is_assignable_to_role=False
    )
    now = sim.tenant.now
    ticket = TicketInfo("ServiceNow", "RITM0010001")
    first = await gateway.request_eligibility(
        "adminAssign",
        group.id,
        user,
        start=now,
        end=now + timedelta(days=30),
        justification="quarter close",
        ticket=ticket,
    )
    assert first.request_id and not first.already_existed
    second = await gateway.request_eligibility(
        "adminAssign", group.id, user, start=now, end=now + timedelta(days=30)
    )
    assert second.already_existed
    state = await gateway.group_pim_state(group.id)
    assert [(e.principal_id, e.end) for e in state.eligibilities] == [(user, now + timedelta(days=30))]
    assert state.eligibilities[0].created is not None
    assert state.active_assignments == ()
    pim = gateway.client.identity_governance.privileged_access.group.eligibility_schedule_requests
    query = type(pim).EligibilityScheduleRequestsRequestBuilderGetQueryParameters(
        filter=f"groupId eq '{group.id}'"
    )
    requests = await pim.get(RequestConfiguration(query_parameters=query))
    assert requests is not None  # the SDK parses graphsim's answer into its own models
    ours = [r for r in requests.value or [] if r.principal_id == user]
    assert ours and ours[0].ticket_info.ticket_number == "RITM0010001"


async def test_removal_respects_pims_five_minutes(
    gateway: GraphGateway, ctl: httpx.AsyncClient, sim: GraphSim
) -> None:
    user = PrincipalId(
        next(u["id"] for u in (await _state(ctl))["users"] if u["userPrincipalName"].startswith("grace@"))
    )
    group = await gateway.ensure_group(
        "pw-rm", "Rm-User-SecureAccess", "d", "rm", is_assignable_to_role=False
    )
    now = sim.tenant.now
    await gateway.request_eligibility("adminAssign", group.id, user, start=now, end=now + timedelta(days=1))
    with pytest.raises(PermanentGraphError):
        await gateway.request_eligibility("adminRemove", group.id, user)
    await ctl.post("/clock", json={"advance": "PT6M"})
    removed = await gateway.request_eligibility("adminRemove", group.id, user)
    assert not removed.already_existed
    assert (await gateway.group_pim_state(group.id)).eligibilities == ()
    gone = await gateway.request_eligibility("adminRemove", group.id, user)
    assert gone.already_existed


async def test_bypass_member_removal_and_missing_user(
    gateway: GraphGateway, ctl: httpx.AsyncClient, raw: httpx.AsyncClient
) -> None:
    user = next(u["id"] for u in (await _state(ctl))["users"] if u["userPrincipalName"].startswith("ada@"))
    group = await gateway.ensure_group(
        "pw-byp", "Byp-User-SecureAccess", "d", "byp", is_assignable_to_role=False
    )
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user}"}
    assert (await raw.post(f"/groups/{group.id}/members/$ref", json=ref)).status_code == 204
    observed = await gateway.find_group("pw-byp")
    assert observed is not None and observed.member_ids == {user}
    await gateway.remove_member(GroupId(group.id), PrincipalId(user))
    await gateway.remove_member(GroupId(group.id), PrincipalId(user))  # already gone is fine
    observed = await gateway.find_group("pw-byp")
    assert observed is not None and observed.member_ids == frozenset()
    assert await gateway.get_user("nobody@contoso.onmicrosoft.com") is None
    guest = await gateway.get_user("gus_fabrikam.com#EXT#@contoso.onmicrosoft.com")
    assert guest is not None and guest.user_type == "Guest"


async def test_throttling_pauses_every_caller_then_succeeds(
    gateway: GraphGateway, ctl: httpx.AsyncClient
) -> None:
    await ctl.post("/faults", json={"throttle": {"read_units_per_10s": 3}})
    runner = CallRunner(base_delay_s=0.0)  # real sleeps: graphsim's buckets refill by wall time
    slow = GraphGateway(gateway.client, runner)
    for _ in range(5):
        assert await slow.get_user("ada@contoso.onmicrosoft.com") is not None
    assert runner.stats.throttled >= 1
    assert runner.stats.requests == 5 + runner.stats.throttled


async def test_bulk_rule_patch_is_one_write(gateway: GraphGateway) -> None:
    group = await gateway.ensure_group(
        "pw-bulk", "Bulk-User-SecureAccess", "d", "bulk", is_assignable_to_role=False
    )
    policies = await gateway.group_policies(group.id)
    assert policies.member is not None
    rules = policies.member.rules
    expiration = dict(rules["Expiration_EndUser_Assignment"]) | {"maximumDuration": "PT30M"}
    enablement = dict(rules["Enablement_EndUser_Assignment"]) | {
        "enabledRules": ["MultiFactorAuthentication", "Justification"]
    }
    _, writes_before = gateway.request_count()
    await gateway.patch_policy_rules(policies.member.policy_id, [expiration, enablement])
    assert gateway.request_count()[1] == writes_before + 1
    after = (await gateway.group_policies(group.id)).member
    assert after is not None
    assert after.rules["Expiration_EndUser_Assignment"]["maximumDuration"] == "PT30M"
    assert set(after.rules["Enablement_EndUser_Assignment"]["enabledRules"]) == {
        "MultiFactorAuthentication",
        "Justification",
    }


def test_concurrent_creates_over_a_socket_keep_their_own_keys() -> None:
    """msgraph-sdk's alternate-key builder shares one path-parameter dict; the gateway must not."""
    import asyncio

    from graphsim.testing import SimServer

    async def create_all(base_url: str) -> list[tuple[str | None, str]]:
        gateway = GraphGateway(build_graph_client(base_url, StaticCredential()))
        names = [f"pw-concurrent-{i}" for i in range(6)]
        groups = await asyncio.gather(
            *(gateway.ensure_group(n, n, "d", n.replace("-", ""), is_assignable_to_role=False) for n in names)
        )
        return [(g.unique_name, g.id) for g in groups]

    with SimServer(build_app()) as server:
        created = asyncio.run(create_all(server.base_url))
        stored = {g["uniqueName"]: g["id"] for g in server.app.tenant.groups.values()}
    assert [name for name, _ in created] == [f"pw-concurrent-{i}" for i in range(6)]
    assert dict(created) == stored and len(set(stored.values())) == 6


async def test_group_delta_from_now_is_a_delta_link_even_with_many_groups(
    gateway: GraphGateway, raw: httpx.AsyncClient
) -> None:
    """$deltatoken=latest must reach Graph (the SDK's URL template has no such parameter): with more
    groups than a page holds, a plain initial round would answer a nextLink, not a deltaLink."""
    for i in range(120):
        body = {
            "displayName": f"g{i}",
            "mailEnabled": False,
            "mailNickname": f"g{i}",
            "securityEnabled": True,
        }
        assert (await raw.post("/groups", json=body)).status_code == 201
    baseline = await gateway.group_delta([], None)
    assert "$deltatoken=" in baseline.delta_link and "latest" not in baseline.delta_link
    assert baseline.changed == frozenset()
    quiet = await gateway.group_delta([], baseline.delta_link)
    assert quiet.changed == frozenset() and quiet.delta_link


async def test_audit_window_includes_entries_of_its_last_second(
    gateway: GraphGateway, raw: httpx.AsyncClient, sim: GraphSim
) -> None:
    """Graph stamps entries with fractions of a second; the window's end is rounded up, not down."""
    sim.tenant.set_now(sim.tenant.now.replace(microsecond=600_000))
    body = {"displayName": "late", "mailEnabled": False, "mailNickname": "late", "securityEnabled": True}
    group = (await raw.post("/groups", json=body)).json()
    assert (await raw.delete(f"/groups/{group['id']}")).status_code == 204  # "Delete group" is read
    until = sim.tenant.now.replace(microsecond=300_000)  # same second, earlier fraction than the entry
    signals = await gateway.audit_signals(until - timedelta(minutes=5), until + timedelta(microseconds=1))
    assert any(group["id"] in s.target_ids for s in signals)


async def test_service_principal_by_application_id(gateway: GraphGateway, sim: GraphSim) -> None:
    fin = next(sp for sp in sim.tenant.service_principals.values() if sp["displayName"] == "FinReport SQL")
    found = await gateway.find_service_principal_by_app_id(fin["appId"])
    assert found is not None and (found.id, found.display_name) == (fin["id"], "FinReport SQL")
    assert await gateway.find_service_principal_by_app_id("00000000-0000-4000-8000-000000000000") is None


async def test_reads_issued_together_go_out_as_one_json_batch(gateway: GraphGateway, sim: GraphSim) -> None:
    import asyncio

    fin = next(sp for sp in sim.tenant.service_principals.values() if sp["displayName"] == "FinReport SQL")
    mark = len(sim.log)
    found, missing, user = await asyncio.gather(
        gateway.get_service_principal(fin["id"]),
        gateway.get_service_principal("00000000-0000-4000-8000-000000000001"),
        gateway.get_user("ada@contoso.onmicrosoft.com"),
    )
    assert found is not None and found.display_name == "FinReport SQL"
    assert missing is None  # an inner 404 is still "not found"
    assert user is not None and user.user_principal_name.startswith("ada@")
    outer = [e for e in list(sim.log)[mark:] if not e.get("batch")]
    assert [(e["method"], e["route"]) for e in outer] == [("POST", "$batch")]
    assert gateway.request_count()[1] == 0  # a batch of reads is no write


async def test_a_throttled_inner_read_is_sent_again_on_its_own(
    gateway: GraphGateway, ctl: httpx.AsyncClient
) -> None:
    import asyncio

    await ctl.post("/faults", json={"throttle": {"read_units_per_10s": 5}})
    slow = GraphGateway(
        gateway.client, CallRunner(base_delay_s=0.0)
    )  # real waits: buckets refill by wall time
    users = await asyncio.gather(*(slow.get_user("ada@contoso.onmicrosoft.com") for _ in range(8)))
    assert all(u is not None for u in users)
    assert slow.runner.stats.throttled >= 1
