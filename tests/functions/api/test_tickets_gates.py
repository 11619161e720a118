"""Signatures, envelope, duplicates (ten at once: one effect), reused ids, every guardrail, and a fuzz of
the raw endpoint: always 2xx/4xx with a JSON body, and nothing written to Graph or storage when refused."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.api.reconcile_queue import ReconcileMessage
from tests.integration.engine.simenv import writes_since

from .conftest import (
    ADA,
    BREAKGLASS,
    EXCHANGE,
    FINREPORT,
    GUEST,
    MANAGED_IDENTITY,
    OLD,
    PAYROLL,
    WAREHOUSE,
    Env,
    post_ticket,
    sign_jira,
    sign_standard,
)
from .test_tickets_flow import generic

GRANT = generic("grant", "RITM9")


async def state_of(env: Env) -> tuple[int, int, int]:
    store = env.engine.store
    grants = len(await store.grants.list_open(FINREPORT)) + len(await store.grants.list_open(PAYROLL))
    registrations = len(await store.registrations.list())
    due = await store.cursors.find("engine-due")
    return grants, registrations, len(due.value) if due else 0


async def test_signature_checks(env: Env) -> None:
    now = env.now()
    cases: list[tuple[dict[str, str], bytes, int, str | None]] = [
        (sign_standard(env, GRANT), GRANT, 202, None),
        (sign_standard(env, GRANT, secret=OLD), GRANT, 202, None),  # rotation: the old secret still listed
        (
            sign_standard(env, GRANT, secret="whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="),
            GRANT,
            401,
            "no_valid_signature",
        ),
        (sign_standard(env, GRANT, at=now - 3600), GRANT, 401, "stale"),
        (sign_standard(env, GRANT, at=now + 3600), GRANT, 401, "future"),
        (sign_standard(env, GRANT), GRANT.replace(b"RITM9", b"RITM8"), 401, "no_valid_signature"),
        ({"content-type": "application/json"}, GRANT, 401, "missing_headers"),
    ]
    for headers, body, expected, code in cases:
        status, answer = await post_ticket("generic", body, headers)
        assert status == expected, (code, answer)
        assert answer.get("error_code") == code
        if status == 401:
            assert set(answer) == {"error_code"}


async def test_envelope_checks_come_first(env: Env) -> None:
    mark = await state_of(env)
    assert (await post_ticket("nosuch", GRANT, sign_standard(env, GRANT)))[0] == 404
    big = b"{" + b" " * (256 * 1024) + b"}"
    assert (await post_ticket("generic", big, sign_standard(env, big)))[0] == 413
    headers = {**sign_standard(env, GRANT), "content-type": "text/plain"}
    assert (await post_ticket("generic", GRANT, headers))[0] == 415
    bad = b'{"action": "grant", "durration": "P1D"}'
    status, answer = await post_ticket("generic", bad, sign_standard(env, bad))
    assert status == 400 and answer["errors"]
    assert await state_of(env) == mark


async def test_duplicate_gets_the_stored_answer_and_changes_nothing(env: Env) -> None:
    headers = sign_standard(env, GRANT, msg_id="msg_dup1")
    first = await post_ticket("generic", GRANT, headers)
    again = await post_ticket("generic", GRANT, headers)
    assert first[0] == 202 and again[0] == 200
    assert again[1]["duplicate"] is True and again[1]["request_id"] == first[1]["request_id"]
    assert len(await env.queue.receive_texts()) == 1


async def test_ten_concurrent_duplicates_have_one_effect(env: Env) -> None:
    headers = sign_standard(env, GRANT, msg_id="msg_race")
    answers = await asyncio.gather(*(post_ticket("generic", GRANT, headers) for _ in range(10)))
    statuses = sorted(s for s, _ in answers)
    assert statuses.count(202) == 1 and set(statuses) <= {200, 202, 409}
    assert len(await env.engine.store.grants.list_open(FINREPORT, ADA)) == 1
    assert len(await env.queue.receive_texts()) == 1


async def test_reused_id_with_another_body_is_refused_and_audited(env: Env) -> None:
    await post_ticket("generic", GRANT, sign_standard(env, GRANT, msg_id="msg_reuse"))
    other = generic("grant", "RITM10")
    status, answer = await post_ticket("generic", other, sign_standard(env, other, msg_id="msg_reuse"))
    assert status == 422 and answer["error_code"] == "delivery_id_reused"
    now = env.engine.clock.now()
    events = await env.engine.store.audit.query(FINREPORT, now - timedelta(days=1), now + timedelta(days=1))
    assert "DeliveryIdReused" in [e.action for e in events]


async def refused(env: Env, body: bytes, source: str = "generic") -> tuple[int, str]:
    status, answer = await post_ticket(source, body, sign_standard(env, body))
    return status, answer.get("error_code", "")


async def test_every_guardrail(env: Env) -> None:
    reg = {
        "action": "register",
        "ticket": {"system": "jira", "number": "CHG1"},
        "app": WAREHOUSE,
        "profile": "standard",
        "justification": "new high-value app",
    }
    cases: list[tuple[bytes, str, int, str]] = [
        (generic("grant", "G1", app=WAREHOUSE), "generic", 422, "app_not_managed"),
        (generic("grant", "G2", duration="P365D"), "generic", 422, "duration_exceeds_profile"),
        (
            generic("grant", "G3", user="nobody@contoso.onmicrosoft.com"),
            "generic",
            422,
            "principal_not_found",
        ),
        (generic("grant", "G4", user=GUEST), "generic", 422, "principal_not_allowed"),
        (generic("grant", "G5", user=BREAKGLASS), "generic", 422, "protected_principal"),
        (generic("grant", "G5", user="breakglass@contoso.onmicrosoft.com"), "generic", 422,
         "protected_principal"),
        (json.dumps({**reg, "profile": "nosuch"}).encode(), "generic", 422, "unknown_profile"),
        (json.dumps({**reg, "app": EXCHANGE}).encode(), "generic", 422, "microsoft_first_party_app"),
        (json.dumps({**reg, "app": MANAGED_IDENTITY}).encode(), "generic", 422, "managed_identity"),
        (generic("grant", "G7", starts="9999-12-31T23:59:59Z"), "generic", 422, "starts_out_of_range"),
        (generic("grant", "G7", starts="0001-01-01T00:00:00Z"), "generic", 422, "starts_out_of_range"),
        (generic("grant", "G7", starts="2036-01-01T00:00:00Z"), "generic", 422, "starts_out_of_range"),
        (generic("grant", "G7", starts="9999-12-31T23:59:59-01:00"), "generic", 400, "invalid_payload"),
        (generic("grant", "G7", starts="0001-01-01T00:00:00+01:00"), "generic", 400, "invalid_payload"),
    ]
    mark = len(env.sim.log)
    for body, source, status, code in cases:
        assert await refused(env, body, source) == (status, code), code
    assert writes_since(env.sim, mark) == []
    assert await env.engine.store.grants.list_open(FINREPORT) == []
    assert await env.engine.store.registrations.list() == []
    now = env.engine.clock.now()
    for app, code in ((EXCHANGE, "microsoft_first_party_app"), (MANAGED_IDENTITY, "managed_identity")):
        events = await env.engine.store.audit.query(app, now - timedelta(days=1), now + timedelta(days=1))
        refusals = [e for e in events if e.action == "RegistrationRefused"]
        assert refusals and refusals[-1].detail.startswith(code) and refusals[-1].cause == "ticket:jira:CHG1"


async def test_register_needs_an_allowed_source(env: Env) -> None:
    env.api.config = replace(env.api.config, register_sources=frozenset())
    reg = {
        "action": "deregister",
        "ticket": {"system": "jira", "number": "CHG1"},
        "app": FINREPORT,
        "justification": "retired",
    }
    assert await refused(env, json.dumps(reg).encode()) == (403, "source_not_allowed")


async def test_refusal_is_reported_by_the_status_route(env: Env) -> None:
    from .conftest import get_status

    body = generic("grant", "G6", duration="P365D")
    _, answer = await post_ticket("generic", body, sign_standard(env, body))
    state = await get_status(answer["request_id"])
    assert state["status"] == "refused" and state["refused"]["error_code"] == "duration_exceeds_profile"


async def test_register_from_an_allowed_source_then_reconcile(env: Env) -> None:
    reg = {
        "action": "register",
        "ticket": {"system": "jira", "number": "CHG2"},
        "app": WAREHOUSE,
        "profile": "standard",
        "justification": "new high-value app",
    }
    body = json.dumps(reg).encode()
    status, _ = await post_ticket("generic", body, sign_standard(env, body))
    assert status == 202
    [text] = await env.queue.receive_texts()
    assert ReconcileMessage.from_json(text).app == WAREHOUSE
    assert (await env.engine.store.registrations.get(WAREHOUSE)).profile == "standard"


ODATA = st.sampled_from(["' or 1 eq 1", "$filter=id eq '1'", "../../$batch", "x')/members", "%00", "\u202e"])
TEXT = st.one_of(st.text(max_size=40), ODATA)
PAYLOAD = st.fixed_dictionaries(
    {
        "action": st.one_of(st.sampled_from(["grant", "revoke", "register", "deregister"]), TEXT),
        "ticket": st.one_of(st.fixed_dictionaries({"system": TEXT, "number": TEXT}), TEXT),
        "user": TEXT,
        "app": TEXT,
        "duration": st.one_of(st.none(), TEXT),
        "justification": TEXT,
    },
    optional={"profile": TEXT, "appRole": TEXT, "starts": TEXT},
)
# ServiceNow records and Jira events with hostile values in the fields the adapters read.
SERVICENOW = st.fixed_dictionaries(
    {
        "number": TEXT,
        "sys_id": TEXT,
        "state": TEXT,
        "approval": TEXT,
        "requested_for": st.one_of(TEXT, st.fixed_dictionaries({"link": TEXT, "value": TEXT})),
    },
    optional={"variables": st.dictionaries(TEXT, TEXT, max_size=3)},
)
JIRA = st.fixed_dictionaries(
    {
        "webhookEvent": st.one_of(st.just("jira:issue_updated"), TEXT),
        "timestamp": st.one_of(st.integers(), TEXT),
        "issue": st.fixed_dictionaries({"key": TEXT, "fields": st.dictionaries(TEXT, TEXT, max_size=3)}),
        "changelog": st.fixed_dictionaries(
            {"items": st.lists(st.fixed_dictionaries({"field": TEXT, "toString": TEXT}), max_size=2)}
        ),
    },
)
BODIES = st.one_of(
    st.binary(max_size=300),
    PAYLOAD.map(lambda p: json.dumps(p).encode()),
    SERVICENOW.map(lambda p: json.dumps(p).encode()),
    JIRA.map(lambda p: json.dumps(p).encode()),
    st.text(max_size=200).map(str.encode),
    st.integers(1, 3).map(lambda n: b"[" * 5000 * n),
    # Over the 256 KB limit: refused with 413 before the signature is even computed.
    st.integers(256 * 1024 + 1, 300 * 1024).map(lambda n: b'{"a":"' + b"x" * n + b'"}'),
)


@settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=BODIES,
    signed=st.booleans(),
    content=st.sampled_from(["application/json", "text/plain", ""]),
    source=st.sampled_from(["generic", "servicenow", "jira"]),
)
async def test_fuzz_raw_endpoint_never_500_and_refusals_leave_no_trace(
    env: Env, body: bytes, signed: bool, content: str, source: str
) -> None:
    sign = sign_jira if source == "jira" else sign_standard
    headers: dict[str, Any] = sign(env, body) if signed else {"webhook-id": "x"}
    headers["content-type"] = content
    mark, before = len(env.sim.log), await state_of(env)
    status, answer = await post_ticket(source, body, headers)
    assert 200 <= status < 500 and status not in (410,) and isinstance(answer, dict)
    if len(body) > 256 * 1024:
        assert status == 413
    assert writes_since(env.sim, mark) == []
    if status >= 400 and status != 422:
        assert await state_of(env) == before
