"""GET /api/requests/{id} answers a Functions key holder only what the sender needs: the decision, times,
PIM's outcome and request id, why it was refused; never object ids, grant ids, other tickets or errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from .conftest import ADA, FINREPORT, Env, drain, get_status
from .test_tickets_flow import generic, role_group, send


async def test_status_shows_the_outcome_but_not_other_tickets_or_object_ids(env: Env) -> None:
    _, first = await send(env, "generic", generic("grant", "RITM1", duration="P7D"))
    assert (await send(env, "generic", generic("grant", "RITM2")))[0] == 202
    await drain(env)
    group = await role_group(env)
    granted = await get_status(first["request_id"])
    assert granted["status"] == "applied"
    assert set(granted["detail"]) == {"kind", "app", "role", "starts", "ends", "pim"}
    assert set(granted["detail"]["pim"]) == {"eligible", "start", "end", "request_id"}
    assert granted["detail"]["pim"]["request_id"]
    env.sim.tenant.advance(timedelta(minutes=10))
    _, revoke = await send(env, "generic", generic("revoke", "RITM1"))
    await drain(env)
    revoked = await get_status(revoke["request_id"])
    assert revoked["status"] == "applied" and revoked["detail"]["still_covered"] is True
    for shown in (granted, revoked):
        text = str(shown)
        assert ADA not in text and group not in text and "RITM2" not in text
        assert not any(g.grant_id in text for g in await env.engine.store.grants.list_open(FINREPORT))


async def test_a_failed_reconcile_is_named_without_the_engines_error_text(env: Env) -> None:
    _, answer = await send(env, "generic", generic("grant", "RITM3"))
    record = await env.engine.store.apps.get(FINREPORT)
    await env.engine.store.apps.update(
        replace(record, last_error="GraphError 403 Authorization_RequestDenied at /groups/secret-id",
                last_reconcile=env.engine.clock.now() + timedelta(minutes=1))
    )
    state = await get_status(answer["request_id"])
    assert state["status"] == "pending" and "problem" in state["detail"]
    assert "Authorization_RequestDenied" not in str(state) and "secret-id" not in str(state)
