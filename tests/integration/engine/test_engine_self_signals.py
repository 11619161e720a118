"""PIM Warden's own writes are not change signals; anyone else's still are.

The engine talks to graphsim with the product's dev credential (an unsigned app-only JWT naming
PIM Warden's service principal), so graphsim records PIM Warden as the initiator of its writes, as
Entra does. After a cold onboarding the next tick reconciles nothing and reads only the signals; a
change made in the same window by another caller (another app's token, a portal admin) is found
and repaired, and so is a service principal change the delta shows that the last reconcile did not
leave, whoever made it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from graphsim.app import GraphSim
from graphsim.testing import IN_PROCESS_BASE, asgi_transport
from shared.credentials import StaticTokenCredential, dev_token
from shared.domain.ids import AppId, AppRoleId, GroupId, ServicePrincipalId
from shared.domain.model import AppRole, ServicePrincipal
from shared.engine.ports import AuditSignal
from shared.engine.run import RunSummary, enforce
from shared.engine.services import Services
from shared.engine.signals import as_last_left, is_own, service_principal_fingerprint
from shared.graph.calls import CallRunner
from shared.graph.client import build_graph_client
from shared.graph.gateway import GraphGateway
from shared.graph.mapping import audit_signal
from shared.storage import StateStore
from tests.tokens import ADMIN_ROLES, admin_headers, product_roles

from .simenv import app_by_name, make_services, managed_groups, no_wait

pytestmark = pytest.mark.azurite
OWN = "2f9c1d7e-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
OTHER_APP = "8d7c6b5a-4e3f-4a2b-9c1d-0e9f8a7b6c5d"
SIGNAL_ROUTES = {"servicePrincipals.delta", "groups.delta", "auditLogs.directoryAudits.list"}


def app_token(oid: str, name: str) -> str:
    """An app-only token for another app (graphsim reads its claims, never its signature)."""
    claims = {"oid": oid, "appid": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "app_displayname": name,
              "roles": ADMIN_ROLES}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{dev_token(oid).split('.')[0]}.{body}."


def raw_graph(sim: GraphSim, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=asgi_transport(sim), base_url=IN_PROCESS_BASE, headers=headers)


@pytest.fixture
def engine(sim: GraphSim, state_store: StateStore, azurite: str) -> Services:
    """Engine services whose Graph calls carry PIM Warden's own (dev) token, and which know their id."""
    client = build_graph_client(
        IN_PROCESS_BASE,
        StaticTokenCredential(dev_token(OWN, product_roles(attribute=True, protected_groups=True))),
        transport=asgi_transport(sim),
    )
    graph = GraphGateway(client, CallRunner(sleep=no_wait, base_delay_s=0.01), sleep=no_wait,
                         replication_budget_s=5.0)
    services = make_services(sim, state_store, azurite, graph=graph)
    return dataclasses.replace(
        services, config=dataclasses.replace(services.config, own_service_principals=frozenset({OWN}))
    )


@pytest.fixture
async def other_app(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    """Raw Graph calls by another app (its own app-only token)."""
    headers = {"Authorization": f"Bearer {app_token(OTHER_APP, 'Provisioning script')}"}
    async with raw_graph(sim, headers) as c:
        yield c


@pytest.fixture
async def as_warden(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    """Raw Graph calls made with PIM Warden's own identity (a script borrowing it, a second instance)."""
    roles = product_roles(attribute=True, protected_groups=True)
    headers = {"Authorization": f"Bearer {dev_token(OWN, roles)}"}
    async with raw_graph(sim, headers) as c:
        yield c


async def onboard(sim: GraphSim, engine: Services) -> RunSummary:
    """The cold onboarding, then five minutes pass (its audit entries stay in the overlap window)."""
    cold = await enforce(engine, "timer")
    assert cold.full and cold.failed == 0 and cold.count_with_changes() >= 3, [r.error for r in cold.results]
    sim.tenant.advance(timedelta(minutes=5))
    return cold


def reconciled(tick: RunSummary) -> set[str]:
    return {r.service_principal_id for r in tick.results}


def routes_since(sim: GraphSim, mark: int) -> set[str]:
    return {str(r["route"]) for r in list(sim.log)[mark:]}


async def test_graphsim_records_pim_warden_as_the_initiator_of_its_writes(
    sim: GraphSim, engine: Services
) -> None:
    await onboard(sim, engine)
    initiators = {(e["initiatedBy"]["app"] or {}).get("servicePrincipalId") for e in sim.tenant.audits}
    assert initiators == {OWN}, initiators  # directory and PIM entries alike


async def test_the_tick_after_onboarding_reconciles_nothing_and_reads_only_signals(
    sim: GraphSim, engine: Services
) -> None:
    await onboard(sim, engine)
    mark = len(sim.log)
    tick = await enforce(engine, "timer")
    assert not tick.full and tick.results == [], reconciled(tick)
    assert tick.graph_writes == 0 and tick.graph_requests <= 5, tick.line()
    assert routes_since(sim, mark) <= SIGNAL_ROUTES


async def test_the_last_reconcile_leaves_the_fingerprint_of_the_service_principal_as_it_now_is(
    sim: GraphSim, engine: Services
) -> None:
    await onboard(sim, engine)
    sp = app_by_name(sim, "FinReport SQL")
    record = await engine.store.apps.get(sp["id"])
    current = await engine.graph.get_service_principal(ServicePrincipalId(sp["id"]))
    assert current is not None and current.app_role_assignment_required
    assert record.sp_fingerprint == service_principal_fingerprint(current)


async def test_changes_by_someone_else_in_the_same_window_are_found_and_repaired(
    sim: GraphSim, engine: Services, other_app: httpx.AsyncClient, portal_admin: httpx.AsyncClient
) -> None:
    await onboard(sim, engine)
    fin, payroll = app_by_name(sim, "FinReport SQL"), app_by_name(sim, "Payroll RDP Jump Host")
    r = await other_app.patch(f"/servicePrincipals/{fin['id']}", json={"appRoleAssignmentRequired": False})
    assert r.status_code == 204, r.text
    policy_id = await _raise_activation_maximum(engine, portal_admin, _group_of(sim, payroll))
    tick = await enforce(engine, "timer")
    assert reconciled(tick) == {fin["id"], payroll["id"]}, reconciled(tick)
    assert all(r.drifted for r in tick.results) and tick.failed == 0
    assert app_by_name(sim, "FinReport SQL")["appRoleAssignmentRequired"] is True
    policies = await engine.graph.group_policies(GroupId(_group_of(sim, payroll)["id"]))
    assert policies.member is not None and str(policies.member.policy_id) == policy_id
    assert policies.member.rules["Expiration_EndUser_Assignment"]["maximumDuration"] == "PT30M"


async def test_a_service_principal_change_the_last_reconcile_did_not_leave_is_repaired_whoever_made_it(
    sim: GraphSim, engine: Services, as_warden: httpx.AsyncClient
) -> None:
    await onboard(sim, engine)
    fin, payroll = app_by_name(sim, "FinReport SQL"), app_by_name(sim, "Payroll RDP Jump Host")
    # Our own identity, so the audit entry is skipped: only the delta's fingerprint can tell.
    r = await as_warden.patch(f"/servicePrincipals/{fin['id']}", json={"appRoleAssignmentRequired": False})
    assert r.status_code == 204, r.text
    # A property reconcile does not act on: the delta shows it, nothing needs doing.
    r = await as_warden.patch(f"/servicePrincipals/{payroll['id']}", json={"notes": "owned by payroll ops"})
    assert r.status_code == 204, r.text
    tick = await enforce(engine, "timer")
    assert reconciled(tick) == {fin["id"]}
    assert app_by_name(sim, "FinReport SQL")["appRoleAssignmentRequired"] is True


@pytest.fixture
async def portal_admin(sim: GraphSim) -> AsyncIterator[httpx.AsyncClient]:
    """Raw Graph calls as a portal administrator (graphsim's opaque-token caller)."""
    headers = admin_headers()
    async with raw_graph(sim, headers) as c:
        yield c


def _group_of(sim: GraphSim, sp: dict[str, Any]) -> dict[str, Any]:
    return next(g for g in managed_groups(sim) if sp["appId"].lower() in g["uniqueName"])


async def _raise_activation_maximum(engine: Services, http: httpx.AsyncClient, group: dict[str, Any]) -> str:
    policies = await engine.graph.group_policies(GroupId(group["id"]))
    assert policies.member is not None
    rule = {**policies.member.rules["Expiration_EndUser_Assignment"], "maximumDuration": "PT8H"}
    path = f"/policies/roleManagementPolicies/{policies.member.policy_id}/rules/Expiration_EndUser_Assignment"
    r = await http.patch(path, json=rule)
    assert r.status_code in (200, 204), r.text
    return str(policies.member.policy_id)


# -- the pure parts -------------------------------------------------------------------------------

def _entry(app: dict[str, Any] | None, user: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": "e1", "activityDisplayName": "Add group", "activityDateTime": "2024-05-01T10:00:00Z",
            "initiatedBy": {"app": app, "user": user}, "targetResources": [{"id": "g1"}]}


def test_an_audit_entry_is_ours_only_when_our_app_made_it_without_a_user() -> None:
    ours = audit_signal(_entry({"servicePrincipalId": OWN.upper(), "appId": "x"}))
    assert ours.initiated_by_app == OWN and is_own(ours, {OWN})
    assert not is_own(audit_signal(_entry({"servicePrincipalId": OTHER_APP})), {OWN})
    by_user = audit_signal(_entry({"servicePrincipalId": OWN}, {"id": "u1", "userPrincipalName": "a@b"}))
    assert by_user.initiated_by_app is None and not is_own(by_user, {OWN})
    assert not is_own(audit_signal(_entry(None)), {OWN})
    ms_pim = audit_signal(_entry({"displayName": "MS-PIM", "servicePrincipalId": None}))
    assert not is_own(ms_pim, {OWN})
    when = datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert not is_own(AuditSignal("e", "a", when, frozenset()), {OWN})


def _sp(**changes: Any) -> ServicePrincipal:
    role = AppRole(AppRoleId("r1"), "Analyst", "Analyst", frozenset({"User"}))
    base = ServicePrincipal(ServicePrincipalId("sp1"), AppId("a1"), "FinReport", ("HighValue", "HideApp"),
                            (role,), True, {"Applications": {"Tier": "HighValue"}})
    return dataclasses.replace(base, **changes)


def test_the_fingerprint_follows_what_reconcile_acts_on() -> None:
    left = service_principal_fingerprint(_sp())
    assert as_last_left(_sp(tags=("HideApp", "HighValue")), left)  # order aside
    assert as_last_left(_sp(custom_security_attributes={}), left)  # the delta does not carry them
    assert not as_last_left(_sp(), "")  # nothing recorded: look again
    assert len(left) == 33
    role = AppRole(AppRoleId("r1"), "Analyst", "Analyst", frozenset({"User"}), is_enabled=False)
    for changed in (
        _sp(tags=("HideApp",)),
        _sp(app_role_assignment_required=False),
        _sp(display_name="FinReport (old)"),
        _sp(app_roles=(role,)),
        _sp(custom_security_attributes={"Applications": {"Tier": "Standard"}}),
    ):
        assert not as_last_left(changed, left), changed
