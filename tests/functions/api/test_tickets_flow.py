"""Each source end to end through the real entry points: grant -> queue -> reconcile -> eligible in
graphsim with the ticket -> the user can activate -> revoke -> no longer eligible; overlapping tickets."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from graphsim import seeding
from graphsim.testing import IN_PROCESS_BASE, asgi_transport
from tests.integration.engine.simenv import eligibilities
from tests.tokens import admin_headers

from .conftest import (
    ADA,
    FINREPORT,
    GRACE,
    JIRA_MAPPING,
    Env,
    drain,
    get_status,
    post_ticket,
    sign_jira,
    sign_standard,
)


def generic(action: str, number: str, *, user: str = ADA, app: str = FINREPORT, **extra: Any) -> bytes:
    body = {
        "action": action,
        "ticket": {"system": "servicenow", "number": number},
        "user": user,
        "app": app,
        **extra,
    }
    if action == "grant":
        body.setdefault("justification", "Quarter-end close")
    return json.dumps(body).encode()


async def role_group(env: Env, app: str = FINREPORT) -> str:
    record = await env.engine.store.apps.get(app)
    return next(iter(record.role_groups.values()))


async def activate(env: Env, group: str, user: str) -> httpx.Response:
    body = {
        "accessId": "member",
        "principalId": user,
        "groupId": group,
        "action": "selfActivate",
        "justification": "on call",
        "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT30M"}},
    }
    async with httpx.AsyncClient(transport=asgi_transport(env.sim), base_url=IN_PROCESS_BASE) as client:
        return await client.post(
            f"{IN_PROCESS_BASE}/identityGovernance/privilegedAccess/group/assignmentScheduleRequests",
            json=body,
            headers={**admin_headers(), "x-graphsim-user": user, "x-graphsim-mfa": "true"},
        )


async def send(env: Env, source: str, body: bytes) -> tuple[int, dict[str, Any]]:
    headers = sign_jira(env, body) if source == "jira" else sign_standard(env, body)
    return await post_ticket(source, body, headers)


def jira_event(status: str, *, event: str = "jira:issue_updated", user: str = ADA) -> bytes:
    body = {
        "timestamp": 0,
        "webhookEvent": event,
        "issue": {
            "key": "ACCESS-42",
            "fields": {
                "summary": "Payroll access",
                JIRA_MAPPING["app_field"]: FINREPORT,
                JIRA_MAPPING["user_field"]: user,
                JIRA_MAPPING["duration_field"]: "P7D",
            },
        },
        "changelog": {"items": [{"field": "status", "fieldId": "status", "toString": status}]},
    }
    return json.dumps(body).encode()


def servicenow(state: str, approval: str) -> bytes:
    return json.dumps(
        {
            "number": "RITM0010042",
            "sys_id": "a" * 32,
            "state": state,
            "approval": approval,
            "short_description": "FinReport access",
            "variables.pimwarden_user": ADA,
            "variables.pimwarden_app": FINREPORT,
            "variables.pimwarden_duration": "P7D",
        }
    ).encode()


async def grant_then_revoke(
    env: Env, source: str, grant: bytes, revoke: bytes, system: str, number: str
) -> None:
    status, answer = await send(env, source, grant)
    assert status == 202, answer
    assert answer["status"] == "pending" and answer["status_url"].endswith(answer["request_id"])
    assert (await get_status(answer["request_id"]))["status"] == "pending"
    assert await drain(env) == 1
    group = await role_group(env)
    assert [e for e in eligibilities(env.sim, group) if e["principalId"] == ADA]
    [pim] = [
        r
        for r in seeding.dump(env.sim.tenant)["eligibilityScheduleRequests"]
        if r["principalId"] == ADA and r["action"] == "adminAssign"
    ]
    assert pim["ticketInfo"] == {"ticketSystem": system, "ticketNumber": number}
    assert pim["justification"]
    state = await get_status(answer["request_id"])
    assert state["status"] == "applied" and state["detail"]["pim"]["eligible"] is True
    assert state["detail"]["pim"]["request_id"] == pim["id"]  # PIM's own request id, read back
    assert (await activate(env, group, ADA)).status_code == 201

    status, answer = await send(env, source, revoke)
    assert status == 202, answer
    env.sim.tenant.advance(timedelta(minutes=10))  # PIM refuses removals in a schedule's first five minutes
    await drain(env)
    assert [e for e in eligibilities(env.sim, group) if e["principalId"] == ADA] == []
    assert (await get_status(answer["request_id"]))["status"] == "applied"


async def test_generic_grant_activate_revoke(env: Env) -> None:
    await grant_then_revoke(
        env,
        "generic",
        generic("grant", "RITM1", duration="P7D"),
        generic("revoke", "RITM1"),
        "servicenow",
        "RITM1",
    )


async def test_servicenow_record_grant_activate_revoke(env: Env) -> None:
    await grant_then_revoke(
        env,
        "servicenow",
        servicenow("2", "approved"),
        servicenow("3", "approved"),
        "servicenow",
        "RITM0010042",
    )


async def test_jira_transition_grant_activate_revoke(env: Env) -> None:
    def stamped(body: bytes) -> bytes:
        data = json.loads(body)
        data["timestamp"] = env.now() * 1000
        return json.dumps(data).encode()

    await grant_then_revoke(
        env, "jira", stamped(jira_event("Approved")), stamped(jira_event("Done")), "jira", "ACCESS-42"
    )


async def test_overlapping_tickets_keep_eligibility_until_the_last_closes(env: Env) -> None:
    for number in ("RITM1", "RITM2"):
        assert (await send(env, "generic", generic("grant", number)))[0] == 202
    await drain(env)
    group = await role_group(env)
    env.sim.tenant.advance(timedelta(minutes=10))
    status, first = await send(env, "generic", generic("revoke", "RITM1"))
    # the sender learns that another ticket still covers the user, not which one
    assert status == 202 and first["decision"]["still_covered"] is True
    assert "RITM2" not in json.dumps(first)
    await drain(env)
    assert [e for e in eligibilities(env.sim, group) if e["principalId"] == ADA]
    assert len(await env.engine.store.grants.list_open(FINREPORT, ADA)) == 1
    assert (await send(env, "generic", generic("revoke", "RITM2")))[0] == 202
    await drain(env)
    assert [e for e in eligibilities(env.sim, group) if e["principalId"] == ADA] == []


async def test_same_ticket_approved_twice_gives_one_grant(env: Env) -> None:
    for _ in range(2):  # two deliveries (two ids) of the same approval
        assert (await send(env, "generic", generic("grant", "RITM7", user=GRACE)))[0] == 202
    assert len(await env.engine.store.grants.list_open(FINREPORT, GRACE)) == 1


async def test_an_app_named_by_its_application_id_is_the_same_app(env: Env) -> None:
    """The generic contract accepts the appId too; the grant lands on the service principal's record."""
    app_id = next(sp["appId"] for sp in env.sim.tenant.service_principals.values() if sp["id"] == FINREPORT)
    status, answer = await send(env, "generic", generic("grant", "RITM7", app=app_id.upper(), duration="P7D"))
    assert status == 202, answer
    [grant] = await env.engine.store.grants.list_open(FINREPORT)
    assert (grant.principal_id, grant.ticket_number) == (ADA, "RITM7")
    status, answer = await send(
        env, "generic", generic("grant", "RITM8", app="0" * 8 + "-0000-4000-8000-" + "0" * 12)
    )
    assert status == 422 and answer["error_code"] == "app_not_managed"
