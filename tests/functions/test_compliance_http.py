"""The compliance endpoints and timers through their real entry points (graphsim + Azurite behind them)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import azure.functions as func
import jsonschema
import pytest
from azure.functions.timer import TimerRequest

from shared.api import wiring
from shared.compliance.service import ComplianceConfig, ComplianceServices
from shared.functions import compliance as fn
from shared.storage import StateStore
from tests.functions.api.conftest import install_reader_tokens, token
from tests.integration.engine.simenv import SimClock, demo_sim
from tests.integration.test_compliance_collect import WARDEN_SP, Env, make_env

pytestmark = pytest.mark.azurite
SCHEMA = json.loads(Path("docs/schemas/report-event.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
async def env(state_store: StateStore, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    made = await make_env(demo_sim(), state_store)
    engine: Any = type("Engine", (), {"store": state_store, "clock": SimClock(made.sim.tenant)})()
    services = ComplianceServices(engine, made.events, made.reads,
                                  ComplianceConfig(warden_principal_ids=frozenset({WARDEN_SP})))
    monkeypatch.setattr(fn, "compliance_services", lambda: services)
    install_reader_tokens(engine)
    try:
        yield made
    finally:
        wiring.uninstall()
        await made.events.drop()
        await made.http.aclose()


def env_services(env: Env) -> ComplianceServices:
    services: ComplianceServices = fn.compliance_services()
    return services


READER = token(roles=("PimWarden.Reader",))


def get(route: str, params: dict[str, str], route_params: dict[str, str] | None = None, *,
        bearer: str | None = READER) -> func.HttpRequest:
    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
    return func.HttpRequest(method="GET", url=f"http://localhost/api/{route}", params=params,
                            route_params=route_params or {}, body=b"", headers=headers)


async def history(env: Env) -> None:
    """Two eligibilities, two activations (one without a ticket), one deactivation; collected by the timer."""
    await env.eligible(env.ada)
    await env.eligible(env.grace)
    await env.advance("PT10M")
    await env.activate(env.ada)
    await env.activate(env.grace, ticket=None)
    await env.advance("PT10M")
    await env.deactivate(env.ada)
    await fn.compliance_collect(TimerRequest(past_due=False))


def window(env: Env, **extra: str) -> dict[str, str]:
    return {"app": env.app_id, "from": "2024-12-01T00:00:00Z", "to": "2025-01-02T00:00:00Z", **extra}


async def test_json_lines_validate_against_the_schema_and_page_with_a_token(env: Env) -> None:
    await history(env)
    first = await fn.compliance_report(get("report", window(env, pageSize="3")))
    assert first.status_code == 200 and first.mimetype == "application/x-ndjson"
    token = first.headers["X-Continuation-Token"]
    second = await fn.compliance_report(get("report", window(env, pageSize="3", continuation=token)))
    assert "X-Continuation-Token" not in second.headers
    lines = (first.get_body() + second.get_body()).decode().splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        jsonschema.validate(record, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [r["event"] for r in records] == [
        "eligibility_granted", "eligibility_granted", "activated", "activated", "deactivated"]
    assert len({r["event_id"] for r in records}) == 5


async def test_csv_has_the_documented_columns_and_the_same_rows(env: Env) -> None:
    await history(env)
    response = await fn.compliance_report(get("report", window(env, format="csv")))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_body().decode()
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == list(SCHEMA["properties"])
    assert [r["event"] for r in rows].count("activated") == 2
    assert {r["ticket_number"] for r in rows if r["event"] == "activated"} == {"CHG-7", ""}


@pytest.mark.parametrize(("params", "bad"), [
    ({"from": "2025-01-01T00:00:00Z"}, "app"),
    ({"app": "x", "from": "yesterday"}, "from"),
    ({"app": "x", "from": "2025-01-01T00:00:00"}, "from"),
    ({"app": "x"}, "from"),
    ({"app": "x", "from": "2025-01-01T06:00:00Z", "to": "2025-01-01T00:00:00Z"}, "to"),
    ({"app": "x", "from": "2025-01-01T00:00:00Z", "format": "xml"}, "format"),
    ({"app": "x", "from": "2025-01-01T00:00:00Z", "pageSize": "0"}, "pageSize"),
    ({"app": "x", "from": "2025-01-01T00:00:00Z", "pageSize": "²"}, "pageSize"),
    ({"app": "x", "from": "2025-01-01T00:00:00Z", "continuation": "!!not-ours"}, "continuation"),
    ({"app": "a/b'", "from": "2025-01-01T00:00:00Z"}, "app"),
    ({"app": "x", "from": "1000-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "from"),
    ({"app": "x", "from": "0999-01-01T00:00:00Z"}, "from"),
    ({"app": "x", "from": "0001-01-01T00:00:00+14:00"}, "from"),
    ({"app": "x", "from": "2024-12-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"}, "to"),
    ({"app": "x", "from": "2024-12-01T00:00:00Z", "to": "9999-12-31T23:00:00-05:00"}, "to"),
    ({"app": "x", "from": "1999-12-31T23:59:59Z", "to": "2000-01-02T00:00:00Z"}, "from"),
    ({"app": "x", "from": "2023-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "to"),
])
async def test_bad_parameters_answer_400_naming_the_parameter(
    env: Env, params: dict[str, str], bad: str
) -> None:
    response = await fn.compliance_report(get("report", params))
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert json.loads(response.get_body())["parameter"] == bad


async def test_a_range_is_at_most_the_retention_period_and_answers_fast(env: Env) -> None:
    """The longest allowed range reads a bounded number of month partitions; one day more is a 400."""
    await history(env)
    days = env_services(env).config.retention_days
    start = datetime(2025, 1, 2, tzinfo=UTC) - timedelta(days=days)
    fits = {"app": env.app_id, "from": start.isoformat(), "to": "2025-01-02T00:00:00Z"}
    started = time.monotonic()
    response = await fn.compliance_report(get("report", fits))
    assert response.status_code == 200 and len(response.get_body().decode().splitlines()) == 5
    assert time.monotonic() - started < 30
    longer = {**fits, "from": (start - timedelta(seconds=1)).isoformat()}
    response = await fn.compliance_report(get("report", longer))
    assert response.status_code == 400 and json.loads(response.get_body())["parameter"] == "to"


async def test_unknown_app_is_404_for_report_evidence_and_findings(env: Env) -> None:
    report = await fn.compliance_report(get("report", {"app": "nope", "from": "2025-01-01T00:00:00Z"}))
    evidence = await fn.compliance_evidence(get("apps/nope/evidence", {}, {"appId": "nope"}))
    findings = await fn.compliance_findings(get("findings", {"app": "nope"}))
    assert [r.status_code for r in (report, evidence, findings)] == [404, 404, 404]
    missing = await fn.compliance_findings(get("findings", {}))
    assert missing.status_code == 400 and json.loads(missing.get_body())["parameter"] == "app"


async def test_the_trail_needs_a_reader_token_not_just_the_functions_key(env: Env) -> None:
    """The Functions key alone (what ticket systems hold) opens none of the compliance routes."""
    await history(env)
    calls = [(fn.compliance_report, "report", window(env), {}),
             (fn.compliance_evidence, f"apps/{env.app_id}/evidence", {}, {"appId": env.app_id}),
             (fn.compliance_findings, "findings", {"app": env.app_id}, {})]
    for function, route, params, route_params in calls:
        for bearer, status, code in [(None, 401, "missing_bearer_token"),
                                     (token(roles=()), 403, "missing_app_role"),
                                     (token(aud="api://other"), 401, "wrong_audience")]:
            response = await function(get(route, params, route_params, bearer=bearer))
            assert response.status_code == status, (route, code)
            assert json.loads(response.get_body())["error_code"] == code
            assert env.app_id not in response.get_body().decode()
    for role in ("PimWarden.Reader", "PimWarden.Operator"):
        response = await fn.compliance_report(get("report", window(env), bearer=token(roles=(role,))))
        assert response.status_code == 200 and len(response.get_body().decode().splitlines()) == 5


async def test_retention_timer_keeps_recent_events(env: Env) -> None:
    await history(env)
    await fn.compliance_retention(TimerRequest(past_due=False))
    response = await fn.compliance_report(get("report", window(env)))
    assert len(response.get_body().decode().splitlines()) == 5
