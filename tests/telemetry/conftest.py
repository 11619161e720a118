"""One OpenTelemetry SDK per test session (global providers can be set only once per process), with
in-memory exporters each test reads; the webhook world of tests/functions/api is reused as is."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.functions.api.conftest import env  # noqa: F401  (fixture)


@dataclass
class Captured:
    """What the SDK has recorded."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def metric(self, name: str) -> dict[tuple[tuple[str, Any], ...], float]:
        """Current value per attribute set (counters and gauges: value; histograms: count)."""
        found: dict[tuple[tuple[str, Any], ...], float] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for item in scope.metrics:
                    if item.name != name:
                        continue
                    for point in item.data.data_points:
                        key = tuple(sorted(point.attributes.items()))
                        found[key] = float(getattr(point, "value", getattr(point, "count", 0)))
        return found


@pytest.fixture(scope="session")
def otel_sdk() -> Captured:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    assert trace.get_tracer_provider() is tracer_provider, "another tracer provider was set first"
    return Captured(exporter, reader)


@pytest.fixture
def otel(otel_sdk: Captured) -> Captured:
    """The session's SDK with no spans yet (metrics are cumulative: compare before and after)."""
    otel_sdk.exporter.clear()
    return otel_sdk


@dataclass
class LogCapture(logging.Handler):
    """Log records with the trace id current when they were emitted (what the distro's handler sends)."""

    records: list[tuple[logging.LogRecord, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(logging.DEBUG)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record, trace.get_current_span().get_span_context().trace_id))

    def __hash__(self) -> int:
        return id(self)


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    root = logging.getLogger("pimwarden")
    root.addHandler(capture)
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)
