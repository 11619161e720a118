"""The evidence view and findings with real data, through their real entry points.

The engine onboards the demo tenant in graphsim; a grant gives Ada a 5-day eligibility (inside the
14-day lapse window); Ada activates herself without a ticket; the app is then registered under the
`strict` profile (which requires a ticket) and enforced; the collector runs; then the auditor asks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import azure.functions as func
import httpx
import pytest
from azure.functions.timer import TimerRequest

from graphsim.app import GraphSim
from graphsim.testing import IN_PROCESS_BASE, asgi_transport
from shared.compliance.events import format_time
from shared.compliance.service import build_compliance
from shared.engine.grants import GrantRequest, record_grant
from shared.engine.run import enforce
from shared.engine.schedule import DueSchedule
from shared.engine.services import Services
from shared.functions import compliance as fn
from shared.storage import Registration, StateStore
from tests.integration.engine.simenv import demo_sim, make_services, user_by_upn
from tests.tokens import admin_headers

pytestmark = pytest.mark.azurite
FINREPORT = "23b8c1e9-3924-46de-beb1-3b9046685257"
PIM = f"{IN_PROCESS_BASE}/identityGovernance/privilegedAccess/group"
RULE = "Expiration_EndUser_Assignment"


@dataclass
class World:
    sim: GraphSim
    engine: Services
    http: httpx.AsyncClient
    group: str
    ada: str


@pytest.fixture
async def world(
    state_store: StateStore, azurite: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    sim = demo_sim()
    engine = make_services(sim, state_store, azurite)
    assert (await enforce(engine, "timer")).failed == 0
    services = build_compliance(engine, {})
    monkeypatch.setattr(fn, "compliance_services", lambda: services)
    record = await state_store.apps.get(FINREPORT)
    http = httpx.AsyncClient(transport=asgi_transport(sim), headers=admin_headers())
    try:
        yield World(sim, engine, http, next(iter(record.role_groups.values())), user_by_upn(sim, "ada")["id"])
    finally:
        await state_store.events.drop()
        await http.aclose()


async def resync(w: World) -> None:
    now = w.engine.clock.now()
    await DueSchedule(w.engine.store.cursors).update(now, set_due={FINREPORT: now})
    assert (await enforce(w.engine, "timer")).failed == 0


async def self_activate(w: World) -> None:
    body = {"accessId": "member", "principalId": w.ada, "groupId": w.group, "action": "selfActivate",
            "justification": "month-end close",
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT15M"}}}
    response = await w.http.post(f"{PIM}/assignmentScheduleRequests", json=body,
                                 headers={"x-graphsim-user": w.ada, "x-graphsim-mfa": "true"})
    assert response.status_code == 201, response.text


async def loosen_activation_maximum(w: World, role: str) -> None:
    """Someone widens the activation maximum of `role` in the portal (raw Graph, around PIM Warden)."""
    found = await w.http.get(f"{IN_PROCESS_BASE}/policies/roleManagementPolicyAssignments", params={
        "$filter": f"scopeId eq '{w.group}' and scopeType eq 'Group' and roleDefinitionId eq '{role}'"})
    assert found.status_code == 200, found.text
    policy = found.json()["value"][0]["policyId"]
    url = f"{IN_PROCESS_BASE}/policies/roleManagementPolicies/{policy}/rules/{RULE}"
    response = await w.http.patch(url, json={
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule", "id": RULE,
        "isExpirationRequired": True, "maximumDuration": "PT4H",
        "target": {"caller": "EndUser", "operations": ["All"], "level": "Assignment"}})
    assert response.status_code in (200, 204), response.text


async def call(function: Any, route: str, params: dict[str, str], **route_params: str) -> dict[str, Any]:
    req = func.HttpRequest(method="GET", url=f"http://localhost/api/{route}", params=params,
                           route_params=route_params, body=b"")
    response = await function(req)
    assert response.status_code == 200, response.get_body()
    body: dict[str, Any] = json.loads(response.get_body())
    return body


async def test_evidence_and_findings_show_policy_holders_enforcement_and_lapsing(world: World) -> None:
    w = world
    ends = w.engine.clock.now() + timedelta(days=5)
    await record_grant(w.engine.store, GrantRequest(FINREPORT, w.ada, w.engine.clock.now(), ends,
                                                    "quarter-end", principal_upn=None), w.engine.clock.now())
    await resync(w)
    w.sim.tenant.advance(timedelta(minutes=6))
    await self_activate(w)  # the standard profile asks for no ticket
    await w.engine.store.registrations.put(Registration(FINREPORT, "strict", "test", w.engine.clock.now(),
                                                        "most sensitive"))
    await resync(w)
    await fn.compliance_collect(TimerRequest(past_due=False))

    evidence = await call(fn.compliance_evidence, f"apps/{FINREPORT}/evidence", {}, appId=FINREPORT)
    assert (evidence["profile"], evidence["policy_matches_profile"], evidence["policy_differences"]) == (
        "strict", True, [])
    [eligible] = evidence["eligible"]
    assert (eligible["principal_id"], eligible["group_id"]) == (w.ada, w.group)
    assert eligible["upn"] == "ada@contoso.onmicrosoft.com" and eligible["end"] == format_time(ends)
    [active] = evidence["active"]
    assert (active["principal_id"], active["group_id"]) == (w.ada, w.group)
    assert active["end"] is not None and active["end"] > evidence["generated_at"]
    last = evidence["last_enforcement"]
    assert (last["outcome"], last["at"]) == ("succeeded", format_time(w.engine.clock.now()))

    findings = (await call(fn.compliance_findings, "findings", {"app": FINREPORT}))["findings"]
    by_kind = {f["kind"]: f for f in findings}
    assert set(by_kind) == {"eligibility_lapsing", "activation_without_ticket"}, findings
    assert by_kind["eligibility_lapsing"]["subject"] == "ada@contoso.onmicrosoft.com"
    assert by_kind["eligibility_lapsing"]["evidence"] == [f"eligibility:{w.group}:{w.ada}"]
    assert by_kind["activation_without_ticket"]["subject"] == "ada@contoso.onmicrosoft.com"
    assert evidence["findings"] == findings

    await loosen_activation_maximum(w, "member")
    changed = await call(fn.compliance_evidence, f"apps/{FINREPORT}/evidence", {}, appId=FINREPORT)
    assert changed["policy_matches_profile"] is False
    [difference] = changed["policy_differences"]
    assert (difference["access_id"], difference["rule_id"]) == ("member", RULE)
    assert "PT15M" in str(difference["profile_value"]) and "PT4H" in str(difference["current_value"])


async def test_an_owner_policy_changed_around_pim_warden_shows_as_a_difference(world: World) -> None:
    await loosen_activation_maximum(world, "owner")
    evidence = await call(fn.compliance_evidence, f"apps/{FINREPORT}/evidence", {}, appId=FINREPORT)
    assert evidence["policy_matches_profile"] is False
    assert [(d["access_id"], d["rule_id"]) for d in evidence["policy_differences"]] == [("owner", RULE)]
    assert "PT1H" in str(evidence["policy_differences"][0]["profile_value"])
