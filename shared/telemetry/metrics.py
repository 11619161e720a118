"""Metrics: PIM Warden's OpenTelemetry instruments (`pimwarden.*`, UCUM units per the semantic
conventions: `s` for durations, `{thing}` for counts) and one recording function per fact.

Instruments are created on first use from the global meter provider, so a provider the worker sets
after import still receives them; without one the API's no-op instruments cost next to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from opentelemetry import metrics

METER = "pimwarden"

# name -> (kind, unit, description): the single list the code records and the alert tests read.
INSTRUMENTS: dict[str, tuple[str, str, str]] = {
    "pimwarden.apps": ("gauge", "{app}", "Apps PIM Warden knows, by status (each full enforcement run)"),
    "pimwarden.drift.found": ("counter", "{drift}", "Differences from the desired state found, by kind"),
    "pimwarden.drift.repaired": ("counter", "{drift}", "Differences set back, by kind"),
    "pimwarden.graph.requests": ("counter", "{request}", "Graph requests sent (each attempt)"),
    "pimwarden.graph.writes": ("counter", "{request}", "Graph write requests sent (each attempt)"),
    "pimwarden.graph.throttled": ("counter", "{request}", "Graph answers 429"),
    "pimwarden.graph.shared_pause_waits": (
        "counter", "{request}", "Graph requests held back by a 429 pause another instance recorded"
    ),
    "pimwarden.graph.failed": ("counter", "{request}", "Graph requests that failed for good"),
    "pimwarden.enforce.duration": ("histogram", "s", "Duration of an enforcement run"),
    "pimwarden.enforce.not_reached": ("counter", "{app}", "Apps left for the next run (budget spent)"),
    "pimwarden.dispatch.enqueued": ("counter", "{app}", "Apps a tick put on the reconcile queue"),
    "pimwarden.reconcile.poisoned": ("counter", "{message}", "Reconcile messages the queue gave up on"),
    "pimwarden.webhook.deliveries": ("counter", "{delivery}", "Ticket webhooks, by source, outcome"),
    "pimwarden.grant.latency": ("histogram", "s", "From a ticket's webhook to its PIM eligibility read back"),
    "pimwarden.collector.lag": ("gauge", "s", "Compliance collector: now minus its oldest cursor"),
    "pimwarden.report.rows": ("counter", "{row}", "Compliance report rows served"),
}


@cache
def _instrument(name: str) -> Any:
    kind, unit, description = INSTRUMENTS[name]
    meter = metrics.get_meter(METER)
    if kind == "counter":
        return meter.create_counter(name, unit=unit, description=description)
    if kind == "histogram":
        return meter.create_histogram(name, unit=unit, description=description)
    return meter.create_gauge(name, unit=unit, description=description)


def add(name: str, amount: int | float = 1, **attributes: str | bool | int) -> None:
    """Add to a counter."""
    if amount:
        _instrument(name).add(amount, _attrs(attributes))


def record(name: str, value: float, **attributes: str | bool | int) -> None:
    """Record a histogram value or a gauge reading."""
    instrument = _instrument(name)
    (instrument.set if INSTRUMENTS[name][0] == "gauge" else instrument.record)(value, _attrs(attributes))


def _attrs(attributes: dict[str, str | bool | int]) -> dict[str, str | bool | int]:
    return {f"pimwarden.{k}": v for k, v in attributes.items()}


@dataclass(frozen=True)
class DriftCount:
    """One drift kind and whether the plan set it back."""

    kind: str
    repaired: bool


def drift(found: Iterable[DriftCount], *, applied: bool) -> None:
    """Count drift found, and, when the plan was applied in full, the drift it repaired."""
    for item in found:
        add("pimwarden.drift.found", kind=item.kind)
        if applied and item.repaired:
            add("pimwarden.drift.repaired", kind=item.kind)
