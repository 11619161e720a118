"""The compliance collector against graphsim (real msgraph-sdk, simulated clock) and Azurite.

Activations and deactivations are made the way users make them (selfActivate / selfDeactivate with
graphsim's caller headers); the clock moves through POST /_sim/clock. Helpers here are reused by the
HTTP tests (tests/functions/test_compliance_http.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from graphsim.app import GraphSim
from graphsim.directory import audit as sim_audit
from graphsim.testing import asgi_transport
from shared.compliance.collector import CollectConfig, collect, read_cursor
from shared.compliance.events import ComplianceEvent, EventKind
from shared.graph.compliance_reads import ComplianceReads
from shared.storage import AuditEvent, ManagedApp, StateStore
from shared.storage.events import EventRepo
from tests.conftest import FAST_RETRY
from tests.integration.engine.simenv import demo_sim, gateway_for, user_by_upn
from tests.tokens import admin_headers

pytestmark = pytest.mark.azurite
PIM = "/v1.0/identityGovernance/privilegedAccess/group"
WARDEN_SP = "5d1b6f0a-7c3e-4b2a-9e8d-1f2a3b4c5d6e"
CONFIG = CollectConfig(warden_principal_ids=frozenset({WARDEN_SP}))
FOREVER = (datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))  # graphsim starts 2025-01-01


@dataclass
class Env:
    """graphsim + gateway reads + Azurite store + events table + one managed app over one group."""

    sim: GraphSim
    http: httpx.AsyncClient
    reads: ComplianceReads
    store: StateStore
    events: EventRepo
    app_id: str
    group_id: str
    ada: str
    grace: str

    @property
    def now(self) -> datetime:
        return self.sim.tenant.now

    async def post(self, path: str, body: dict[str, Any], user: str | None = None) -> dict[str, Any]:
        headers = {"x-graphsim-user": user, "x-graphsim-mfa": "true"} if user else {}
        response = await self.http.post(path, json=body, headers=headers)
        assert response.status_code < 300, response.text
        return dict(response.json()) if response.content else {}

    async def advance(self, duration: str) -> None:
        await self.post("/_sim/clock", {"advance": duration})

    async def eligible(self, user: str, duration: str = "P30D") -> None:
        await self.post("/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleRequests", {
            "accessId": "member", "principalId": user, "groupId": self.group_id, "action": "adminAssign",
            "justification": "onboarding", "ticketInfo": {"ticketSystem": "Jira", "ticketNumber": "SEC-1"},
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": duration}}}, user=WARDEN_SP)

    async def activate(self, user: str, duration: str = "PT1H", ticket: str | None = "CHG-7") -> None:
        body: dict[str, Any] = {
            "accessId": "member", "principalId": user, "groupId": self.group_id, "action": "selfActivate",
            "justification": "month-end close",
            "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": duration}}}
        if ticket:
            body["ticketInfo"] = {"ticketSystem": "ServiceNow", "ticketNumber": ticket}
        await self.post(f"{PIM}/assignmentScheduleRequests", body, user)

    async def deactivate(self, user: str) -> None:
        await self.post("/v1.0/identityGovernance/privilegedAccess/group/assignmentScheduleRequests", {
            "accessId": "member", "principalId": user, "groupId": self.group_id,
            "action": "selfDeactivate"}, user)

    async def collect(self, sink: Any = None, *, may_fail: bool = False) -> Any:
        summary = await collect(self.reads, sink or self.events, self.store, self.now, CONFIG)
        assert may_fail or not summary.failed, summary.failed
        return summary

    async def stored(self) -> list[ComplianceEvent]:
        return [e async for e in self.events.events(self.app_id, *FOREVER)]

    def late_audit(self, activity: str, when: datetime, user: str) -> None:
        """An entry that shows up in the audit log only now, stamped `when`."""
        sim_audit.append(self.sim.tenant, {
            "activityDisplayName": activity, "activityDateTime": when.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
            "loggedByService": "PIM", "category": "GroupManagement",
            "initiatedBy": {"user": {"id": self.grace, "userPrincipalName": "grace@contoso.onmicrosoft.com"}},
            "targetResources": [{"id": self.group_id, "type": "Group"}, {"id": user, "type": "User"}]})


async def make_env(sim: GraphSim, store: StateStore) -> Env:
    """A managed app whose member group exists (created through Graph), no PIM history yet."""
    http = httpx.AsyncClient(transport=asgi_transport(sim), base_url="https://graph.local",
                             headers=admin_headers())
    response = await http.post("/v1.0/groups", json={
        "displayName": "FinReport access", "mailEnabled": False, "mailNickname": f"fin{uuid.uuid4().hex[:6]}",
        "securityEnabled": True})
    assert response.status_code == 201, response.text
    group_id = response.json()["id"]
    app_id = str(uuid.uuid4())
    await store.apps.create(ManagedApp(app_id, "FinReport SQL", {"role": group_id}))
    events = EventRepo.over(store._service, store.prefix, FAST_RETRY)
    reads = ComplianceReads.sharing(gateway_for(asgi_transport(sim)))
    return Env(sim, http, reads, store, events, app_id, group_id,
               user_by_upn(sim, "ada")["id"], user_by_upn(sim, "grace")["id"])


@pytest.fixture
async def env(state_store: StateStore) -> AsyncIterator[Env]:
    made = await make_env(demo_sim(), state_store)
    try:
        yield made
    finally:
        await made.events.drop()
        await made.http.aclose()


class CrashingSink:
    """The real events table, but the process 'dies' after `limit` writes."""

    def __init__(self, repo: EventRepo, limit: int) -> None:
        self.repo, self.limit, self.writes = repo, limit, 0

    async def insert(self, event: ComplianceEvent) -> bool:
        if self.writes >= self.limit:
            raise ConnectionError("simulated crash mid-ingest")
        self.writes += 1
        return await self.repo.insert(event)

    async def seen_ids(self, app_id: str, months: Collection[str]) -> set[str]:
        return await self.repo.seen_ids(app_id, months)


def kinds(events: list[ComplianceEvent], user: str | None = None) -> list[str]:
    return [e.event.value for e in events if user is None or e.user_id == user]


async def test_activation_and_deactivation_show_up_once_in_order_across_overlapping_runs(env: Env) -> None:
    await env.eligible(env.ada)
    await env.advance("PT10M")
    await env.activate(env.ada)
    first = await env.collect()
    await env.advance("PT10M")  # well inside the 15-minute overlap: the next window re-reads the activation
    await env.deactivate(env.ada)
    await env.collect()
    await env.advance("PT1M")
    third = await env.collect()

    stored = await env.stored()
    assert kinds(stored) == ["eligibility_granted", "activated", "deactivated"]
    assert [e.time for e in stored] == sorted(e.time for e in stored)
    assert len({e.event_id for e in stored}) == 3
    activated = stored[1]
    assert (activated.user_upn, activated.ticket_number, activated.duration) == (
        "ada@contoso.onmicrosoft.com", "CHG-7", "PT1H")
    assert activated.justification == "month-end close" and activated.cause == "pim"
    assert stored[0].cause == "pim_warden"  # created by PIM Warden's own principal
    assert first.apps[0].stored == 2 and third.apps[0].stored == 0
    assert (await read_cursor(env.store, env.app_id)).at == env.now


async def test_crash_mid_ingest_keeps_the_cursor_and_a_clean_run_completes_exactly_once(env: Env) -> None:
    await env.eligible(env.ada)
    await env.eligible(env.grace)
    await env.advance("PT6M")
    await env.activate(env.ada)
    await env.activate(env.grace, ticket=None)

    crashed = await env.collect(CrashingSink(env.events, limit=2), may_fail=True)
    assert crashed.failed and "simulated crash" in (crashed.failed[0].error or "")
    assert len(await env.stored()) == 2
    assert (await read_cursor(env.store, env.app_id)).at is None  # never moved past unstored events

    clean = await env.collect()
    again = await env.collect()
    stored = await env.stored()
    assert sorted(kinds(stored)) == ["activated", "activated", "eligibility_granted", "eligibility_granted"]
    assert clean.apps[0].stored == 2 and again.apps[0].stored == 0


async def test_late_audit_entry_inside_the_overlap_is_stored_one_beyond_it_is_missed(env: Env) -> None:
    await env.eligible(env.ada)
    await env.collect()
    await env.advance("PT10M")
    approved = "Add member to role request approved (PIM activation)"
    # stamped 2 minutes before the last run's end, but only visible now: inside the 15-minute overlap
    env.late_audit(approved, env.now - timedelta(minutes=12), env.ada)
    env.late_audit("PIM activation request expired", env.now - timedelta(minutes=40), env.ada)  # too late
    await env.collect()

    stored = await env.stored()
    assert kinds(stored) == ["approval_granted", "eligibility_granted"]
    assert stored[0].approver == "grace@contoso.onmicrosoft.com"


async def test_expiry_is_recorded_at_the_end_time(env: Env) -> None:
    await env.eligible(env.grace, duration="PT2H")
    granted_at = env.now
    await env.advance("PT10M")
    await env.activate(env.grace, duration="PT1H")
    activated_at = env.now
    await env.collect()
    await env.advance("PT3H")  # the activation, then the eligibility run out; both vanish from Graph
    await env.collect()
    await env.collect()

    stored = await env.stored()
    # graphsim logs the activation's expiry when its clock passes the end (here: after the 3-hour jump)
    assert kinds(stored) == ["eligibility_granted", "activated", "eligibility_expired", "activation_expired"]
    eligibility_end = next(e for e in stored if e.event is EventKind.ELIGIBILITY_EXPIRED)
    assert eligibility_end.time == granted_at + timedelta(hours=2) == eligibility_end.end
    activation_end = next(e for e in stored if e.event is EventKind.ACTIVATION_EXPIRED)
    assert activation_end.time >= activated_at + timedelta(hours=1)


async def test_deactivated_early_is_not_an_expiry_and_warden_repairs_join_the_timeline(env: Env) -> None:
    await env.eligible(env.ada, duration="PT2H")
    await env.advance("PT6M")
    await env.store.audit.append(AuditEvent(
        when=env.now - timedelta(seconds=30), app_id=env.app_id, action="PolicyRuleCorrected", cause="timer",
        target=f"{env.group_id}/Expiration_EndUser_Assignment", before='{"maximumDuration":"PT8H"}',
        after='{"maximumDuration":"PT1H"}', outcome="applied"))
    await env.store.audit.append(AuditEvent(
        when=env.now, app_id=env.app_id, action="GroupCreated", cause="timer", outcome="applied"))
    await env.post("/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleRequests", {
        "accessId": "member", "principalId": env.ada, "groupId": env.group_id, "action": "adminRemove"},
        user=WARDEN_SP)
    await env.collect()
    await env.advance("PT3H")
    await env.collect()

    stored = await env.stored()
    assert kinds(stored) == ["eligibility_granted", "policy_drift_repaired", "eligibility_removed"]
    repair = stored[1]
    assert repair.cause == "pim_warden" and repair.group_id == env.group_id
    assert "PT8H" in (repair.detail or "") and "PT1H" in (repair.detail or "")


async def test_one_directory_audit_query_per_run_for_all_apps(env: Env) -> None:
    second_group = (await env.http.post("/v1.0/groups", json={
        "displayName": "Payroll access", "mailEnabled": False, "mailNickname": "payroll",
        "securityEnabled": True})).json()["id"]
    await env.store.apps.create(ManagedApp(str(uuid.uuid4()), "Payroll RDP", {"role": second_group}))
    mark = len(env.sim.log)
    summary = await env.collect()
    audit_calls = [r for r in list(env.sim.log)[mark:] if "directoryaudits" in str(r.get("path", "")).lower()]
    assert len(summary.apps) == 2 and summary.audit_queries == 1
    assert len(audit_calls) == 1
