"""One span and the request metrics per Graph call (all its attempts), without any SDK import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry.trace import SpanKind

from shared.telemetry import metrics
from shared.telemetry.tracing import AttributeValue, span

GRAPH_HOST = "graph.microsoft.com"


@dataclass
class GraphCall:
    """What the call runner learns while it retries one request."""

    attempts: int = 0
    throttled: int = 0
    status: int = 0  # the last error's status (0: no error answer yet, or a network failure)
    shared_waits: int = 0  # attempts held back by a throttle pause another instance recorded


@contextmanager
def graph_span(method: str, path: str, *, write: bool) -> Iterator[GraphCall]:
    """A client span `GET /groups/{id}/members` around every attempt; counts requests and outcomes."""
    call = GraphCall()
    name = f"{method} {path}" if method else "graph"
    # url.full is the template too (Application Insights names HTTP dependencies from it): no ids.
    attributes: dict[str, AttributeValue] = {
        "http.request.method": method or "_OTHER",
        "url.template": path,
        "url.full": f"https://{GRAPH_HOST}/v1.0{path}",
        "server.address": GRAPH_HOST,
        "server.port": 443,
    }
    with span(name, attributes, kind=SpanKind.CLIENT) as current:
        failed = True
        try:
            yield call
            failed = False
        finally:
            # The SDK hands back the body only: a success has no status code to report.
            if failed and call.status:
                current.set_attribute("http.response.status_code", call.status)
            current.set_attribute("pimwarden.graph.retries", max(call.attempts - 1, 0))
            current.set_attribute("pimwarden.graph.throttled", call.throttled > 0)
            current.set_attribute("pimwarden.graph.shared_pause", call.shared_waits > 0)
            _count(method, call, write=write, failed=failed)


def _count(method: str, call: GraphCall, *, write: bool, failed: bool) -> None:
    metrics.add("pimwarden.graph.requests", call.attempts, method=method)
    if write:
        metrics.add("pimwarden.graph.writes", call.attempts, method=method)
    metrics.add("pimwarden.graph.throttled", call.throttled, method=method)
    metrics.add("pimwarden.graph.shared_pause_waits", call.shared_waits, method=method)
    if failed:
        metrics.add("pimwarden.graph.failed", 1, method=method, status=call.status)


def note_throttled() -> None:
    """A 429 inside a JSON batch (its retry is its own call)."""
    metrics.add("pimwarden.graph.throttled", 1, method="GET")
