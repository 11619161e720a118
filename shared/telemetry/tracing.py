"""Spans: one tracer ("pimwarden"), W3C trace context in queue messages, Graph path templates.

Attributes carry kinds, counts, outcomes and the object ids the audit trail already holds; never a
secret, a token, a body or a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from shared.telemetry.traceparent import TRACEPARENT_RE

TRACER = "pimwarden"
AttributeValue = str | bool | int | float | Sequence[str]

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Kiota templates: "{+baseurl}/groups/{group%2Did}/members{?%24top,%24select}".
_TEMPLATE_QUERY = re.compile(r"\{\?[^}]*\}")
# Ids in a raw path: GUIDs, quoted keys ('...'), and anything with digits longer than a word.
_RAW_ID = re.compile(r"\('[^']*'\)|\([^)]*\)|(?<=/)[^/]*\d[^/]*")


def tracer() -> trace.Tracer:
    """PIM Warden's tracer (resolved per call: the worker may set the provider after import)."""
    return trace.get_tracer(TRACER)


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, AttributeValue] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: str | None = None,
) -> Iterator[Span]:
    """A span, current inside the block; `parent` a W3C traceparent to continue (the current span
    then becomes a link). An exception marks the span failed with its type only (no message)."""
    context, links = None, []
    if parent is not None and TRACEPARENT_RE.match(parent):
        current = trace.get_current_span().get_span_context()
        context = propagate.extract({"traceparent": parent})
        links = [Link(current)] if current.is_valid else []
    with tracer().start_as_current_span(
        name, context=context, kind=kind, attributes=dict(attributes or {}), links=links,
        record_exception=False, set_status_on_exception=False,
    ) as current_span:
        try:
            yield current_span
        except BaseException as error:
            current_span.set_attribute("error.type", type(error).__name__)
            current_span.set_status(Status(StatusCode.ERROR))
            raise


def annotate(**attributes: AttributeValue) -> None:
    """Add attributes to the current span (a no-op without one)."""
    trace.get_current_span().set_attributes({f"pimwarden.{k}": v for k, v in attributes.items()})


def current_traceparent() -> str | None:
    """The current context as a W3C traceparent, None outside a recording span."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    value = carrier.get("traceparent")
    return value if value and TRACEPARENT_RE.match(value) else None


def path_template(url_template: str | None, url: str) -> str:
    """The path of a Graph request without ids or query: `/groups/{id}/members`."""
    if url_template:
        path = _TEMPLATE_QUERY.sub("", url_template.replace("{+baseurl}", ""))
        path = re.sub(r"\{[^}]*\}", "{id}", path)
    else:
        path = urlsplit(url).path
        path = re.sub(r"^/(v1\.0|beta)", "", path)
        path = _RAW_ID.sub("{id}", _GUID.sub("{id}", path))
    return path or "/"
