"""Metrics recorded by the real OpenTelemetry SDK (in-memory reader) where the facts arise."""

from __future__ import annotations

from opentelemetry.trace import SpanKind

from shared.engine.run import enforce
from shared.telemetry.metrics import INSTRUMENTS
from tests.functions.api.conftest import FINREPORT, Env, drain, get_status, post_ticket, sign_standard
from tests.functions.api.test_tickets_flow import generic, send

from .conftest import Captured

KIND = (("pimwarden.kind", "assignment_not_required"),)


async def test_a_drift_repair_counts_found_and_repaired_by_kind(env: Env, otel: Captured) -> None:
    found, repaired = otel.metric("pimwarden.drift.found"), otel.metric("pimwarden.drift.repaired")
    env.sim.tenant.service_principals[FINREPORT]["appRoleAssignmentRequired"] = False  # someone undid it
    summary = await enforce(env.engine, "timer", only_app=FINREPORT)
    assert summary.drifted == 1
    assert otel.metric("pimwarden.drift.found")[KIND] == found.get(KIND, 0) + 1
    assert otel.metric("pimwarden.drift.repaired")[KIND] == repaired.get(KIND, 0) + 1
    [span] = [s for s in otel.spans() if s.name == "pimwarden.reconcile"]
    assert span.attributes is not None
    assert span.attributes["pimwarden.drift_repaired"] == "assignment_not_required"


async def test_a_dry_run_counts_no_drift(env: Env, otel: Captured) -> None:
    found = otel.metric("pimwarden.drift.found")
    env.sim.tenant.service_principals[FINREPORT]["appRoleAssignmentRequired"] = False
    summary = await enforce(env.engine, "plan", only_app=FINREPORT, dry_run=True)
    assert summary.drifted == 1
    assert otel.metric("pimwarden.drift.found") == found


async def test_graph_requests_and_run_duration_match_the_run_summary(env: Env, otel: Captured) -> None:
    requests = sum(otel.metric("pimwarden.graph.requests").values())
    runs = sum(otel.metric("pimwarden.enforce.duration").values())
    summary = await enforce(env.engine, "timer", full=True)
    assert sum(otel.metric("pimwarden.graph.requests").values()) - requests == summary.graph_requests
    assert sum(otel.metric("pimwarden.enforce.duration").values()) == runs + 1
    assert otel.metric("pimwarden.apps")[(("pimwarden.status", "managed"),)] >= 1
    assert len([s for s in otel.spans() if s.kind is SpanKind.CLIENT]) <= summary.graph_requests


async def test_webhook_deliveries_by_source_and_outcome(env: Env, otel: Captured) -> None:
    before = otel.metric("pimwarden.webhook.deliveries")
    body = generic("grant", "RITM8")
    await post_ticket("generic", body, {**sign_standard(env, body), "webhook-signature": "v1,AAAA"})
    await post_ticket("nosuch", body, sign_standard(env, body))
    status, _ = await send(env, "generic", body)
    after = otel.metric("pimwarden.webhook.deliveries")
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    outcomes = {(dict(k)["pimwarden.source"], dict(k)["pimwarden.status"], dict(k)["pimwarden.outcome"]): v
                for k, v in delta.items()}
    assert outcomes[("generic", 202, "accepted")] == 1
    assert outcomes[("other", 404, "unknown_source")] == 1
    assert [k for k in outcomes if k[0] == "generic" and k[1] == 401] and status == 202


async def test_grant_latency_is_recorded_when_pim_shows_the_grant(env: Env, otel: Captured) -> None:
    before = sum(otel.metric("pimwarden.grant.latency").values())
    _, answer = await send(env, "generic", generic("grant", "RITM9"))
    assert (await get_status(answer["request_id"]))["status"] == "pending"
    assert sum(otel.metric("pimwarden.grant.latency").values()) == before
    await drain(env)
    assert (await get_status(answer["request_id"]))["status"] == "applied"
    assert sum(otel.metric("pimwarden.grant.latency").values()) == before + 1


def test_every_instrument_is_named_for_the_product_with_a_ucum_unit() -> None:
    for name, (kind, unit, _) in INSTRUMENTS.items():
        assert name.startswith("pimwarden.") and kind in ("counter", "histogram", "gauge")
        assert unit == "s" or (unit.startswith("{") and unit.endswith("}"))
