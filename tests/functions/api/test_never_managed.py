"""What PIM Warden never manages, and whom it never makes eligible, through the real entry points:
first-party apps and managed identities are refused (ticket, operator API) and only reported by
discovery; protected principals are never made eligible, can always be released, and keep no
eligibility that no grant covers; users of unknown kind are not members."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx

from graphsim.testing import IN_PROCESS_BASE, asgi_transport
from shared.engine.reconcile import Outcome
from shared.engine.run import enforce
from shared.storage import AppStatus
from tests.integration.engine.simenv import eligibilities, writes_since
from tests.tokens import admin_headers

from .conftest import (
    BREAKGLASS,
    EXCHANGE,
    FINREPORT,
    MANAGED_IDENTITY,
    OPERATOR,
    Env,
    call_operator,
    post_ticket,
    sign_standard,
    token,
)
from .test_tickets_flow import generic, role_group


async def test_discovery_by_tag_reports_first_party_apps_and_managed_identities_without_touching_them(
    env: Env,
) -> None:
    tenant = env.sim.tenant
    for app, code in ((EXCHANGE, "microsoft_first_party_app"), (MANAGED_IDENTITY, "managed_identity")):
        assert tenant.service_principals[app]["appRoleAssignmentRequired"] is False
        assert not [a for a in tenant.app_role_assignments.values() if a.get("resourceId") == app]
        record = await env.engine.store.apps.get(app)
        assert (record.status, record.role_groups) == (AppStatus.REFUSED, {})
        assert record.last_error and record.last_error.startswith(code)
    mark = len(env.sim.log)
    summary = await enforce(env.engine, "timer", full=True)
    assert summary.failed == 0 and summary.count(Outcome.REFUSED) == 2
    assert writes_since(env.sim, mark) == []
    now = env.engine.clock.now()
    events = await env.engine.store.audit.query(EXCHANGE, now - timedelta(days=1), now + timedelta(days=1))
    assert [e.action for e in events] == ["AppRefused"]  # reported once, not on every run


async def test_operator_registration_of_unmanageable_apps_is_refused_and_audited(env: Env) -> None:
    own = "759cde66-bacf-43d0-8b1f-9163ce9ff57f"
    env.sim.tenant.service_principals[own] = {
        **env.sim.tenant.service_principals[FINREPORT], "id": own, "appId": own, "displayName": "PIM Warden",
        "tags": [],
    }
    env.engine.config = replace(env.engine.config, own_service_principals=frozenset({own}))
    for app, code in ((MANAGED_IDENTITY, "managed_identity"), (EXCHANGE, "microsoft_first_party_app"),
                      (own, "pim_warden_itself")):
        status, body = await call_operator(
            OPERATOR.app_registration, "POST", f"apps/{app}/registration", bearer=token(),
            body=b'{"profile": "strict", "reason": "try"}', appId=app,
        )
        assert (status, body["error_code"]) == (422, code), body
        now = env.engine.clock.now()
        events = await env.engine.store.audit.query(app, now - timedelta(days=1), now + timedelta(days=1))
        assert [e.cause for e in events if e.action == "RegistrationRefused"] == ["operator:olga@contoso.com"]
    assert await env.engine.store.registrations.list() == []


async def admin_assign(env: Env, group: str, user: str) -> httpx.Response:
    body: dict[str, Any] = {
        "accessId": "member", "principalId": user, "groupId": group, "action": "adminAssign",
        "justification": "made eligible by hand",
        "scheduleInfo": {"startDateTime": env.sim.tenant.now.isoformat(),
                         "expiration": {"type": "afterDuration", "duration": "P30D"}},
    }
    async with httpx.AsyncClient(transport=asgi_transport(env.sim), base_url=IN_PROCESS_BASE) as client:
        return await client.post(
            f"{IN_PROCESS_BASE}/identityGovernance/privilegedAccess/group/eligibilityScheduleRequests",
            json=body, headers=admin_headers(),
        )


async def test_a_protected_principal_is_released_and_keeps_no_orphan_eligibility(env: Env) -> None:
    group = await role_group(env)
    assert (await admin_assign(env, group, BREAKGLASS)).status_code == 201
    env.sim.tenant.advance(timedelta(minutes=10))
    body = generic("revoke", "RITM900", user=BREAKGLASS)
    status, answer = await post_ticket("generic", body, sign_standard(env, body))
    assert status == 200 and answer["status"] == "ignored", answer  # accepted, not 422
    await enforce(env.engine, "timer", only_app=FINREPORT)
    assert [e for e in eligibilities(env.sim, group) if e["principalId"] == BREAKGLASS] == []


async def test_users_of_unknown_kind_are_not_members(env: Env) -> None:
    users = env.sim.tenant.users
    ada = next(u for u in users.values() if u["userPrincipalName"].startswith("ada@"))
    external = {**ada, "id": "0d4c1e55-0000-4000-8000-00000000e0e0",
                "userPrincipalName": "eve_fabrikam.com#EXT#@contoso.onmicrosoft.com", "userType": "Member"}
    untyped = {**ada, "id": "0d4c1e55-0000-4000-8000-00000000e0e1",
               "userPrincipalName": "nul@contoso.onmicrosoft.com", "userType": None}
    users[external["id"]], users[untyped["id"]] = external, untyped
    for n, user in enumerate((external["id"], untyped["id"])):
        body = generic("grant", f"RITM91{n}", user=user)
        status, answer = await post_ticket("generic", body, sign_standard(env, body))
        assert (status, answer.get("error_code")) == (422, "principal_not_allowed"), answer
    assert await env.engine.store.grants.list_open(FINREPORT, external["id"]) == []
