"""Alerts and workbook (infra/app/alerts.bicep) check against what the code emits: every table is one
the Azure Monitor distro fills, every metric name is an instrument of shared/telemetry/metrics.py, every
span name and property is one the code sets, and each alert's query is documented in docs/operations.md."""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest

from shared.telemetry.metrics import INSTRUMENTS

from .bicep import ROOT, parse, resources

ALERTS = ROOT / "infra" / "app" / "alerts.bicep"
MAIN = ROOT / "infra" / "main.bicep"
OPERATIONS = ROOT / "docs" / "operations.md"
# The workspace-based Application Insights tables (learn.microsoft.com, Azure Monitor tables reference).
TABLES = {"AppRequests", "AppDependencies", "AppTraces", "AppMetrics", "AppExceptions"}
EXPECTED = {
    "enforcement-stale", "drift-repeated", "graph-throttling", "collector-lag", "reconcile-poisoned",
    "webhook-5xx",
}


def _variables() -> dict[str, Any]:
    return {name: v["value"] for name, v in parse(ALERTS)["variables"].items()}


def _rules() -> list[dict[str, Any]]:
    variables = _variables()
    return [{**rule, "query": variables[rule["query"]]} for rule in variables["rules"]]


def _queries() -> list[str]:
    return [r["query"] for r in _rules()] + [w["query"] for w in _variables()["workbookQueries"]]


def _emitted() -> tuple[set[str], set[str]]:
    """(span names, attribute keys) the product code sets, read from its source."""
    names: set[str] = set()
    keys: set[str] = set()
    for path in (ROOT / "shared").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if literal and re.fullmatch(r"pimwarden\.[a-z_.]+", node.value):
                names.add(node.value)
                keys.add(node.value)
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in ("annotate", "add", "record"):
                    keys |= {f"pimwarden.{k.arg}" for k in node.keywords if k.arg}
    return names, keys


def test_the_expected_alerts_are_deployed_on_the_workspace() -> None:
    assert {r["name"] for r in _rules()} == EXPECTED
    [rule] = resources(ALERTS, "Microsoft.Insights/scheduledQueryRules").values()
    assert rule["config"]["loop_type"] and rule["config"]["config"]["kind"] == "LogAlert"
    assert rule["config"]["config"]["properties"]["scopes"] == ["workspaceId"]
    module = parse(MAIN)["modules"]["alerts"]["config"]["params"]
    wiring = str(module["workspaceId"])
    assert "'monitoring', 'operand_2'" in wiring and "'workspaceId'" in wiring
    assert resources(ALERTS, "Microsoft.Insights/workbooks")


@pytest.mark.parametrize("query", _queries(), ids=lambda q: q.strip().splitlines()[0][:40])
def test_each_query_reads_tables_and_names_the_code_emits(query: str) -> None:
    tables = set(re.findall(r"\b(App[A-Z][a-z]+)\b", query))
    assert tables and tables <= TABLES
    span_names, keys = _emitted()
    for name in re.findall(r'"(pimwarden\.[a-z_.]+)"', query):
        if "Properties[" in query and f'Properties["{name}"]' in query:
            assert name in keys, name
        else:
            assert name in INSTRUMENTS or name in span_names, name


def test_every_alert_query_is_in_the_runbook() -> None:
    text = " ".join(OPERATIONS.read_text().split())
    for rule in _rules():
        assert " ".join(rule["query"].split()) in text, rule["name"]
        assert f'id="{rule["name"]}"' in OPERATIONS.read_text() or f"### {rule['name']}" in text, rule["name"]


def test_alert_thresholds_are_parameters_with_sane_defaults() -> None:
    params = parse(ALERTS)["parameters"]
    assert params["driftRepairsPerDay"]["default"] >= 1
    assert params["throttledPer15Minutes"]["default"] >= 1
    assert params["actionGroupId"]["default"] == ""


def test_queries_read_only_attributes_that_exist() -> None:
    _, keys = _emitted()
    for query in _queries():
        for key in re.findall(r'Properties\["([^"]+)"\]', query):
            assert key in keys, key
