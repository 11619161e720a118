"""Traces through the real entry points, recorded by the real OpenTelemetry SDK (in memory): a ticket
is one trace from its webhook to the PIM request; nothing secret, no token and no body in it."""

from __future__ import annotations

import json
import logging

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from shared.api.reconcile_queue import ReconcileMessage
from tests.functions.api.conftest import (
    FINREPORT,
    JIRA_SECRET,
    NEW,
    OLD,
    Env,
    drain,
    post_ticket,
    sign_standard,
)
from tests.functions.api.test_tickets_flow import generic, send

from .conftest import Captured, LogCapture

PIM_POST = "POST /identityGovernance/privilegedAccess/group/eligibilityScheduleRequests"


def _by_name(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def _parent_chain(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    by_id = {s.context.span_id: s for s in spans}
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_a_ticket_is_one_trace_from_webhook_to_pim_request(env: Env, otel: Captured) -> None:
    status, answer = await send(env, "generic", generic("grant", "RITM1", duration="P7D"))
    assert status == 202, answer
    assert await drain(env) == 1
    spans = otel.spans()
    [webhook] = _by_name(spans, "pimwarden.webhook")
    [queue] = [s for s in spans if s.name.startswith("process ")]
    pim = _by_name(spans, PIM_POST)
    assert pim, sorted({s.name for s in spans})
    trace_id = webhook.context.trace_id
    assert queue.context.trace_id == trace_id and all(p.context.trace_id == trace_id for p in pim)
    assert _parent_chain(pim[0], spans)[:2] == ["pimwarden.reconcile", queue.name]
    assert queue.parent is not None and queue.parent.span_id == webhook.context.span_id
    assert (webhook.kind, queue.kind, pim[0].kind) == (SpanKind.SERVER, SpanKind.CONSUMER, SpanKind.CLIENT)
    assert webhook.attributes is not None and webhook.attributes["pimwarden.webhook.source"] == "generic"
    assert webhook.attributes["http.response.status_code"] == 202
    assert webhook.attributes["pimwarden.request.id"] == answer["request_id"]
    [reconcile] = [s for s in _by_name(spans, "pimwarden.reconcile") if s.context.trace_id == trace_id]
    assert reconcile.attributes is not None
    attributes = reconcile.attributes
    assert attributes["pimwarden.app.id"] == FINREPORT and attributes["pimwarden.outcome"] == "changed"
    assert attributes["pimwarden.actions_applied"] == attributes["pimwarden.actions_planned"] > 0
    assert reconcile.attributes["pimwarden.drift_kinds"] == ""  # a ticket's grant is a change, not drift
    assert reconcile.attributes["pimwarden.profile"]


async def test_graph_spans_name_a_path_template_without_ids(env: Env, otel: Captured) -> None:
    await send(env, "generic", generic("grant", "RITM2"))
    await drain(env)
    graph = [s for s in otel.spans() if s.kind is SpanKind.CLIENT]
    assert graph
    for span in graph:
        assert span.attributes is not None
        template = str(span.attributes["url.template"])
        assert FINREPORT not in template and "?" not in template and "$top" not in template, template
        assert span.name == f"{span.attributes['http.request.method']} {template}"
        assert span.attributes["pimwarden.graph.retries"] == 0


async def test_a_message_without_trace_context_starts_its_own_trace(env: Env, otel: Captured) -> None:
    text = ReconcileMessage("operator:test", FINREPORT).to_json()
    assert "traceparent" not in json.loads(text)
    await env.queue.send(ReconcileMessage("operator:test", FINREPORT))  # no span current: none carried
    await drain(env)
    [queue] = [s for s in otel.spans() if s.name.startswith("process ")]
    assert queue.parent is None
    assert ReconcileMessage.from_json('{"cause":"x","traceparent":"not-a-traceparent"}').traceparent is None


async def test_no_secret_token_or_body_in_spans_or_logs(env: Env, otel: Captured, logs: LogCapture) -> None:
    body = generic("grant", "RITM3", justification="Needs the quarterly ledger")
    headers = sign_standard(env, body)
    await post_ticket("generic", body, headers)
    await post_ticket("generic", body.replace(b"RITM3", b"RITM4"), headers)  # signature no longer matches
    await drain(env)
    spans = otel.spans()
    assert spans and logs.records
    forbidden = [NEW, OLD, JIRA_SECRET, headers["webhook-signature"], "Needs the quarterly ledger",
                 "Bearer", body.decode()]
    text = json.dumps([dict(s.attributes or {}) for s in spans], default=str)
    text += json.dumps([dict(e.attributes or {}) for s in spans for e in s.events], default=str)
    text += "\n".join(r.getMessage() for r, _ in logs.records)
    for secret in forbidden:
        assert secret not in text


async def test_logs_are_emitted_inside_spans_at_sensible_levels(
    env: Env, otel: Captured, logs: LogCapture
) -> None:
    body = generic("grant", "RITM5")
    await post_ticket("generic", body, {**sign_standard(env, body), "webhook-signature": "v1,AAAA"})
    await send(env, "generic", generic("grant", "RITM6"))
    await drain(env)
    # the refusal's own line (the run summary's `refused=0` counter is not one)
    refused = [(r, t) for r, t in logs.records if " refused: " in r.getMessage()]
    assert refused and all(r.levelno == logging.WARNING and t != 0 for r, t in refused)
    assert "401" in refused[0][0].getMessage()
    assert all(t != 0 for _, t in logs.records), [r.getMessage() for r, t in logs.records if t == 0]
    assert not [r for r, _ in logs.records if r.levelno >= logging.ERROR]
