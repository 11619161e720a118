"""The operator API through its entry points: bearer tokens (signature, issuer, audience, expiry, roles),
dry-run plans that write nothing, inline one-app re-sync, queued all-app re-sync, app views, registrations."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt

from tests.integration.engine.simenv import writes_since

from .conftest import FINREPORT, KEY, OPERATOR, WAREHOUSE, Env, call_operator, drain, token


async def test_token_checks(env: Env) -> None:
    other = jwt.encode({"aud": "api://pimwarden", "exp": int(time.time()) + 60}, "x" * 32, algorithm="HS256")
    cases = [
        (None, 401, "missing_bearer_token"),
        ("not-a-jwt", 401, "malformed_token"),
        (other, 401, "unsupported_token"),
        (token(exp=int(time.time()) - 3600), 401, "token_expired"),
        (token(aud="api://other"), 401, "wrong_audience"),
        (token(iss="https://evil.example/v2.0"), 401, "wrong_issuer"),
        (token(roles=()), 403, "missing_app_role"),
        (jwt.encode({"x": 1}, KEY, algorithm="RS256", headers={"kid": "k9"}), 401, "unknown_signing_key"),
    ]
    for bearer, status, code in cases:
        got = await call_operator(OPERATOR.list_apps, "GET", "apps", bearer=bearer)
        assert got == (status, got[1]) and got[1]["error_code"] == code, (code, got)


async def test_reader_may_read_but_not_write(env: Env) -> None:
    reader = token(roles=("PimWarden.Reader",))
    status, body = await call_operator(OPERATOR.list_apps, "GET", "apps", bearer=reader)
    assert status == 200 and FINREPORT in {a["app"] for a in body["apps"]}
    status, body = await call_operator(
        OPERATOR.resync_app, "POST", f"resync/{FINREPORT}", bearer=reader, appId=FINREPORT
    )
    assert (status, body["error_code"]) == (403, "missing_app_role")


async def test_dry_run_returns_the_plan_and_writes_nothing(env: Env) -> None:
    env.sim.tenant.service_principals[FINREPORT]["appRoleAssignmentRequired"] = False  # drift
    mark = len(env.sim.log)
    status, body = await call_operator(
        OPERATOR.resync_app,
        "POST",
        f"resync/{FINREPORT}",
        bearer=token(),
        params={"dryRun": "true"},
        appId=FINREPORT,
    )
    assert status == 200 and body["dry_run"] is True
    [app] = body["apps"]
    assert [a["kind"] for a in app["plan"]["actions"]] == ["RequireAssignment"]
    assert writes_since(env.sim, mark) == []


async def test_one_app_inline_resync_repairs_and_audits_the_operator(env: Env) -> None:
    env.sim.tenant.service_principals[FINREPORT]["appRoleAssignmentRequired"] = False
    status, body = await call_operator(
        OPERATOR.resync_app, "POST", f"resync/{FINREPORT}", bearer=token(), appId=FINREPORT
    )
    assert status == 200 and body["outcome"] == "changed"
    assert env.sim.tenant.service_principals[FINREPORT]["appRoleAssignmentRequired"] is True
    now = env.engine.clock.now()
    events = await env.engine.store.audit.query(FINREPORT, now - timedelta(days=1), now + timedelta(days=1))
    events = [e for e in events if e.when >= now]
    assert {e.cause for e in events if e.action == "ResyncRequested"} == {"operator:olga@contoso.com"}
    assert "operator:olga@contoso.com" in {e.cause for e in events if e.action == "AssignmentRequired"}


async def test_all_apps_resync_is_queued(env: Env) -> None:
    status, body = await call_operator(OPERATOR.resync_all, "POST", "resync", bearer=token())
    assert status == 202 and body["look"] == "/api/apps"
    assert await drain(env) == 1  # the re-sync message: gather, then one message per app


async def test_the_apps_list_shows_the_resyncs_progress(env: Env) -> None:
    """What `look: /api/apps` promises: the fanned-out tick's progress, from enqueued to done."""
    await call_operator(OPERATOR.resync_all, "POST", "resync", bearer=token())
    await drain(env)  # gathers and enqueues one message per app
    status, body = await call_operator(OPERATOR.list_apps, "GET", "apps", bearer=token())
    tick = body["latest_tick"]
    assert status == 200 and tick["full"] is True and tick["apps_enqueued"] >= 4
    assert tick["apps_done"] == 0 and tick["progress"] == f"0 of {tick['apps_enqueued']} apps, ETA unknown"

    assert await drain(env) == tick["apps_enqueued"]

    status, body = await call_operator(OPERATOR.list_apps, "GET", "apps", bearer=token())
    done = body["latest_tick"]
    assert done["tick"] == tick["tick"] and done["apps_remaining"] == 0 and done["eta_seconds"] == 0
    assert done["progress"].endswith(", done") and body["poisoned"] is None


async def test_app_detail_and_registration_lifecycle(env: Env) -> None:
    status, body = await call_operator(
        OPERATOR.get_app, "GET", f"apps/{FINREPORT}", bearer=token(), appId=FINREPORT
    )
    assert status == 200 and body["state"] == "managed" and body["profile"] == "standard"
    assert body["groups"] and body["eligible"] == [] and body["last_error"] is None
    assert (
        await call_operator(OPERATOR.get_app, "GET", f"apps/{WAREHOUSE}", bearer=token(), appId=WAREHOUSE)
    )[0] == 404
    status, body = await call_operator(
        OPERATOR.app_registration,
        "POST",
        f"apps/{WAREHOUSE}/registration",
        bearer=token(),
        body=b'{"profile": "strict", "reason": "PCI"}',
        appId=WAREHOUSE,
    )
    assert status == 202, body
    await drain(env)
    status, body = await call_operator(
        OPERATOR.get_app, "GET", f"apps/{WAREHOUSE}", bearer=token(), appId=WAREHOUSE
    )
    assert body["state"] == "managed" and body["registration"]["by"] == "operator:olga@contoso.com"
    status, _ = await call_operator(
        OPERATOR.app_registration, "DELETE", f"apps/{WAREHOUSE}/registration", bearer=token(), appId=WAREHOUSE
    )
    assert status == 202
    assert await env.engine.store.registrations.find(WAREHOUSE) is None
