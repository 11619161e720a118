"""The Azure Monitor distro's real envelopes, received by a loopback stand-in for Application Insights
ingestion (`IngestionEndpoint=http://127.0.0.1:PORT/`; envelopes arrive on /v2.1/track).

The distro runs in a child process (it sets the global providers, which this process already has),
with statsbeat off, only the OTEL_RESOURCE_ATTRIBUTES resource detector (the VM detector would call the
instance metadata address) and live metrics off: nothing leaves loopback.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.functions.api.conftest import JIRA_SECRET, NEW, OLD

ROOT = Path(__file__).resolve().parents[2]
PIM_POST = "POST /v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleRequests"


class Ingestion(ThreadingHTTPServer):
    """Collects every envelope posted to it."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.envelopes: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.paths: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    server: Ingestion

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip" or body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        items = json.loads(body)
        items = items if isinstance(items, list) else [items]
        self.server.raw.append(body)
        self.server.paths.append(self.path)
        self.server.envelopes.extend(items)
        answer = json.dumps({"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def exported(azurite: str) -> Iterator[Ingestion]:
    server = Ingestion()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    env = {
        **os.environ,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": (
            "InstrumentationKey=00000000-0000-0000-0000-000000000001;"
            f"IngestionEndpoint=http://127.0.0.1:{port}/"
        ),
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED": "true",  # no OneSettings poll (settings.sdk...)
        "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "otel",
        "OTEL_TRACES_SAMPLER": "always_on",
        "AZURITE": azurite,
        "PYTHONPATH": str(ROOT),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tests.telemetry.distro_scenario"], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        assert "NON-LOOPBACK" not in done.stderr, done.stderr[-4000:]
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _of(server: Ingestion, kind: str) -> list[dict[str, Any]]:
    return [e for e in server.envelopes if e.get("data", {}).get("baseType") == kind]


def _op(envelope: dict[str, Any]) -> str:
    return str(envelope.get("tags", {}).get("ai.operation.id", ""))


def test_envelopes_arrive_on_the_track_endpoint(exported: Ingestion) -> None:
    assert exported.envelopes and set(exported.paths) == {"/v2.1/track"}
    kinds = {e["data"]["baseType"] for e in exported.envelopes}
    assert {"RequestData", "RemoteDependencyData", "MessageData", "MetricData"} <= kinds


def test_the_ticket_is_one_operation_from_webhook_to_pim_request(exported: Ingestion) -> None:
    [webhook] = [
        e for e in _of(exported, "RequestData")
        if e["data"]["baseData"].get("properties", {}).get("pimwarden.webhook.source") == "generic"
    ]
    assert webhook["data"]["baseData"]["responseCode"] == "202"
    assert webhook["data"]["baseData"]["name"] == "POST tickets/{source}"
    operation = _op(webhook)
    queue = [e for e in _of(exported, "RequestData") if e["data"]["baseData"]["name"].startswith("process ")]
    assert [_op(e) for e in queue] == [operation]
    pim = [e for e in _of(exported, "RemoteDependencyData") if e["data"]["baseData"]["name"] == PIM_POST]
    assert all(e["data"]["baseData"]["target"].startswith("graph.microsoft.com") for e in pim)
    assert pim and {_op(e) for e in pim} == {operation}
    logs = [e for e in _of(exported, "MessageData") if _op(e) == operation]
    assert any("ticket generic request=" in e["data"]["baseData"]["message"] for e in logs)


def test_the_drift_metric_arrives_with_its_kind(exported: Ingestion) -> None:
    drift = [
        e["data"]["baseData"] for e in _of(exported, "MetricData")
        if e["data"]["baseData"]["metrics"][0]["name"] == "pimwarden.drift.repaired"
    ]
    kinds = {d.get("properties", {}).get("pimwarden.kind") for d in drift}
    assert "assignment_not_required" in kinds


def test_no_secret_token_or_body_leaves_the_process(exported: Ingestion) -> None:
    text = b"\n".join(exported.raw).decode()
    for secret in (NEW, OLD, JIRA_SECRET, "secret-justification", "webhook-signature", "v1,", "eyJ"):
        assert secret not in text, secret
