"""Out-of-order ticket events through the real webhook entry point: an "approved" older than the
"closed" of the same ticket is ignored; a newer one (a re-approved ticket) reopens the grant."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.api.changes import grant_id
from shared.storage import AppStatus, Grant, GrantStatus
from tests.integration.engine.simenv import eligibilities

from .conftest import ADA, FINREPORT, JIRA_MAPPING, Env, drain, post_ticket, sign_jira, sign_standard
from .test_tickets_flow import generic, role_group


async def generic_at(env: Env, body: bytes, at: int) -> tuple[int, dict[str, Any]]:
    return await post_ticket("generic", body, sign_standard(env, body, at=at))


async def ticket_grant(env: Env, source: str, system: str, number: str) -> Grant:
    gid = grant_id(FINREPORT, ADA, "00000000-0000-0000-0000-000000000000", system, number, source=source)
    return await env.engine.store.grants.get(FINREPORT, gid)


async def test_stale_approval_after_close_is_ignored_and_newer_one_reopens(env: Env) -> None:
    t = env.now()
    status, _ = await generic_at(env, generic("grant", "RITM7"), t - 120)
    assert status == 202
    status, _ = await generic_at(env, generic("revoke", "RITM7"), t - 60)
    assert status == 202
    status, answer = await generic_at(env, generic("grant", "RITM7", justification="late retry"), t - 90)
    assert status == 200, answer
    assert answer["status"] == "ignored" and "closed after this event" in answer["decision"]["reason"]
    status, answer = await generic_at(env, generic("grant", "RITM7", justification="same second"), t - 60)
    assert (status, answer["status"]) == (200, "ignored")
    closed = await ticket_grant(env, "generic", "servicenow", "RITM7")
    assert closed.status is GrantStatus.CLOSED
    assert closed.closed_at == datetime.fromtimestamp(t - 60, UTC)  # the close event's time
    env.sim.tenant.advance(timedelta(minutes=10))
    await drain(env)
    assert [e for e in eligibilities(env.sim, await role_group(env)) if e["principalId"] == ADA] == []

    status, answer = await generic_at(env, generic("grant", "RITM7", justification="re-approved"), env.now())
    assert status == 202, answer
    reopened = await ticket_grant(env, "generic", "servicenow", "RITM7")
    assert (reopened.status, reopened.justification) == (GrantStatus.OPEN, "re-approved")
    await drain(env)
    assert [e for e in eligibilities(env.sim, await role_group(env)) if e["principalId"] == ADA]


def jira_transition(status: str, at_ms: int, key: str = "ACCESS-7") -> bytes:
    return json.dumps({
        "timestamp": at_ms,
        "webhookEvent": "jira:issue_updated",
        "issue": {"key": key, "fields": {
            "summary": "FinReport access",
            JIRA_MAPPING["app_field"]: FINREPORT,
            JIRA_MAPPING["user_field"]: ADA,
            JIRA_MAPPING["duration_field"]: "P7D",
        }},
        "changelog": {"items": [{"field": "status", "fieldId": "status", "toString": status}]},
    }).encode()


async def test_jira_orders_by_the_payload_timestamp(env: Env) -> None:
    ms = env.now() * 1000
    for status_name, at, expected in (("Approved", ms - 600_000, 202), ("Done", ms - 60_000, 202),
                                      ("Approved", ms - 300_000, 200), ("Approved", ms - 1_000, 202)):
        body = jira_transition(status_name, at)
        status, answer = await post_ticket("jira", body, sign_jira(env, body))
        assert status == expected, (status_name, at, answer)
    assert (await ticket_grant(env, "jira", "jira", "ACCESS-7")).status is GrantStatus.OPEN


def servicenow_record(state: str, updated: str, number: str = "RITM0010077") -> bytes:
    return json.dumps({"result": {
        "number": number,
        "sys_id": "b" * 32,
        "state": state,
        "approval": "approved",
        "sys_updated_on": updated,
        "short_description": "FinReport access",
        "variables.pimwarden_user": ADA,
        "variables.pimwarden_app": FINREPORT,
        "variables.pimwarden_duration": "P7D",
    }}).encode()


async def test_servicenow_orders_by_sys_updated_on_not_by_send_time(env: Env) -> None:
    base = env.sim.tenant.now.astimezone(UTC).replace(microsecond=0)

    def at(seconds: int) -> str:
        return (base + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")

    sends = (("2", at(-300), 202), ("3", at(-200), 202), ("2", at(-250), 200), ("2", at(-100), 202))
    for n, (state, updated, expected) in enumerate(sends):
        body = servicenow_record(state, updated)
        # every send is signed "now" (newest last): only sys_updated_on tells the stale one apart
        status, answer = await post_ticket("servicenow", body, sign_standard(env, body, at=env.now() + n))
        assert status == expected, (state, updated, answer)
        if expected == 200:
            assert answer["decision"]["kind"] == "ignored"
    reopened = await ticket_grant(env, "servicenow", "servicenow", "RITM0010077")
    assert reopened.status is GrantStatus.OPEN


async def no_grant(env: Env, source: str, system: str, number: str) -> bool:
    gid = grant_id(FINREPORT, ADA, "00000000-0000-0000-0000-000000000000", system, number, source=source)
    return await env.engine.store.grants.find(FINREPORT, gid) is None


async def test_generic_close_before_its_approval_is_remembered(env: Env) -> None:
    t = env.now()
    status, answer = await generic_at(env, generic("revoke", "RITM8"), t - 60)
    assert (status, answer["status"]) == (200, "ignored")
    assert "close is remembered" in answer["decision"]["reason"]
    status, answer = await generic_at(env, generic("grant", "RITM8"), t - 120)  # the older approval, late
    assert (status, answer["status"]) == (200, "ignored"), answer
    assert "closed after this event" in answer["decision"]["reason"]
    assert await no_grant(env, "generic", "servicenow", "RITM8")
    status, answer = await generic_at(env, generic("grant", "RITM8", justification="re-approved"), t)
    assert status == 202, answer
    assert (await ticket_grant(env, "generic", "servicenow", "RITM8")).status is GrantStatus.OPEN


async def test_jira_close_before_its_approval_is_remembered(env: Env) -> None:
    ms = env.now() * 1000
    for status_name, at, expected in (("Done", ms - 60_000, 200), ("Approved", ms - 300_000, 200)):
        body = jira_transition(status_name, at, key="ACCESS-8")
        status, answer = await post_ticket("jira", body, sign_jira(env, body))
        assert (status, answer["status"]) == (expected, "ignored"), (status_name, answer)
    assert await no_grant(env, "jira", "jira", "ACCESS-8")
    body = jira_transition("Approved", ms - 1_000, key="ACCESS-8")
    status, answer = await post_ticket("jira", body, sign_jira(env, body))
    assert status == 202, answer


async def test_servicenow_close_before_its_approval_is_remembered(env: Env) -> None:
    base = env.sim.tenant.now.astimezone(UTC).replace(microsecond=0)

    def at(seconds: int) -> str:
        return (base + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")

    for n, (state, updated, expected) in enumerate((("3", at(-100), "ignored"), ("2", at(-200), "ignored"),
                                                     ("2", at(-50), "pending"))):
        body = servicenow_record(state, updated, number="RITM0010078")
        _, answer = await post_ticket("servicenow", body, sign_standard(env, body, at=env.now() + n))
        assert answer["status"] == expected, (state, updated, answer)
    assert (await ticket_grant(env, "servicenow", "servicenow", "RITM0010078")).status is GrantStatus.OPEN


async def test_a_source_cannot_revoke_another_sources_ticket(env: Env) -> None:
    ms = env.now() * 1000
    body = jira_transition("Approved", ms - 1_000, key="ACCESS-9")
    status, _ = await post_ticket("jira", body, sign_jira(env, body))
    assert status == 202
    forged = json.dumps({"action": "revoke", "ticket": {"system": "jira", "number": "ACCESS-9"},
                         "user": ADA, "app": FINREPORT}).encode()
    status, answer = await generic_at(env, forged, env.now())
    assert (status, answer["status"]) == (200, "ignored"), answer
    assert (await ticket_grant(env, "jira", "jira", "ACCESS-9")).status is GrantStatus.OPEN


async def test_a_close_is_taken_whatever_state_the_app_is_in(env: Env) -> None:
    # Releasing is always safe: an app in error (or out of scope, or refused) still takes a ticket's
    # close; refusing it would leave the grant open and the eligibility in PIM until it ends.
    t = env.now()
    status, _ = await generic_at(env, generic("grant", "RITM8"), t - 120)
    assert status == 202
    apps = env.engine.store.apps
    record = await apps.find(FINREPORT)
    if record is None:  # the conftest's app record, as a run leaves it
        await drain(env)
        record = await apps.get(FINREPORT)
    await apps.update(replace(record, status=AppStatus.ERROR, last_error="Graph said no"))
    status, answer = await generic_at(env, generic("revoke", "RITM8"), t - 60)
    assert status == 202, answer
    assert (await ticket_grant(env, "generic", "servicenow", "RITM8")).status is GrantStatus.CLOSED


async def test_a_stale_approval_never_reopens_a_grant_an_operator_revoked(env: Env) -> None:
    t = env.now()
    status, _ = await generic_at(env, generic("grant", "RITM9"), t - 120)
    assert status == 202
    grant = await ticket_grant(env, "generic", "servicenow", "RITM9")
    await env.engine.store.grants.close(grant, "revoked by operator", datetime.fromtimestamp(t - 60, UTC))
    status, answer = await generic_at(env, generic("grant", "RITM9", justification="late retry"), t - 90)
    assert (status, answer["status"]) == (200, "ignored"), answer
    assert (await ticket_grant(env, "generic", "servicenow", "RITM9")).status is GrantStatus.CLOSED
