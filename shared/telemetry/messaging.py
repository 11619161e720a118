"""Spans and metrics at the app's doors: a ticket webhook delivery and a reconcile queue message.

The webhook's trace context rides in the reconcile message (`traceparent`), so the queue span
continues the webhook's trace; the invocation's own context (the Functions host's) becomes a link.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from opentelemetry.trace import Span, SpanKind

from shared.telemetry import metrics
from shared.telemetry.tracing import AttributeValue, span

log = logging.getLogger("pimwarden.tickets")
_SOURCE = re.compile(r"^[a-z0-9_-]{1,32}$")


@dataclass
class Delivery:
    """The webhook span of one delivery; `answered` records the outcome."""

    source: str
    span: Span

    def answered(self, status: int, body: bytes) -> None:
        """Outcome: the status code and the answer's error code or request id (never the request)."""
        answer = _json(body)
        code = str(answer.get("error_code") or ("accepted" if status < 400 else "error"))[:64]
        source = "other" if code == "unknown_source" else self.source
        self.span.set_attributes({"http.response.status_code": status, "pimwarden.webhook.outcome": code})
        request_id = answer.get("request_id")
        if isinstance(request_id, str):
            self.span.set_attribute("pimwarden.request.id", request_id[:200])
        metrics.add("pimwarden.webhook.deliveries", source=source, status=status, outcome=code)
        if 400 <= status < 500:
            log.warning("ticket %s refused: %s %s", source, status, code)


@contextmanager
def webhook_span(source: str) -> Iterator[Delivery]:
    """The span of one ticket webhook delivery (a server-side unit of work inside the invocation)."""
    name = source if _SOURCE.match(source) else "other"
    attributes: dict[str, AttributeValue] = {
        "pimwarden.webhook.source": name, "http.request.method": "POST", "http.route": "tickets/{source}"
    }
    with span("pimwarden.webhook", attributes, kind=SpanKind.SERVER) as current:
        yield Delivery(name, current)


@contextmanager
def queue_span(
    queue: str, message_id: str | None, dequeue_count: int | None, parent: str | None
) -> Iterator[Span]:
    """The consumer span of one queue message, continuing the sender's trace when it carried one."""
    attributes: dict[str, AttributeValue] = {
        "messaging.system": "azure_storage_queue",
        "messaging.operation.type": "process",
        "messaging.destination.name": queue,
        "messaging.message.id": message_id or "",
        "pimwarden.queue.dequeue_count": int(dequeue_count or 0),
    }
    with span(f"process {queue}", attributes, kind=SpanKind.CONSUMER, parent=parent) as current:
        yield current


def _json(body: bytes) -> dict[str, object]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def grant_read_back(source: str, waited: timedelta) -> None:
    """A ticket's grant was first seen eligible in PIM (by the status read that found it)."""
    metrics.record("pimwarden.grant.latency", waited.total_seconds(), source=source[:32])
