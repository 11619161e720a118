"""Run in a child process by test_distro_export.py: the Azure Monitor distro configured as the Functions
worker configures it (its real exporters), then a ticket through the real entry points and a drift repair.

The child has its own global OpenTelemetry providers (they can be set once per process). Environment:
APPLICATIONINSIGHTS_CONNECTION_STRING (a loopback IngestionEndpoint), AZURITE (a connection string).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import uuid
from typing import Any

import httpx
from azure.monitor.opentelemetry import configure_azure_monitor
from opentelemetry import _logs, metrics, trace

from shared.api import wiring
from shared.api.bearer import JwksCache, TokenValidator
from shared.api.reconcile_queue import ReconcileQueue
from shared.engine.run import enforce
from shared.storage import StateStore
from tests.functions.api.conftest import BREAKGLASS, FINREPORT, JWKS_URL, Env, config, drain, jwks
from tests.functions.api.test_tickets_flow import generic, send
from tests.integration.engine.simenv import demo_sim, make_services


async def scenario(azurite: str) -> None:
    store = StateStore.from_connection_string(azurite, f"t{uuid.uuid4().hex[:16]}")
    sim = demo_sim()
    engine = make_services(sim, store, azurite, protected_principals=frozenset({BREAKGLASS}))
    await enforce(engine, "timer")
    queue = ReconcileQueue.from_connection_string(azurite, f"q{uuid.uuid4().hex[:12]}")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=jwks()))
    tokens = TokenValidator(config().tokens, JwksCache(JWKS_URL, transport=transport))
    api = wiring.ApiServices(engine, config(), queue, tokens)
    wiring.install(api)
    env = Env(sim, engine, queue, api)
    try:
        grant = generic("grant", "RITM1", justification="Ledger close secret-justification")
        status, answer = await send(env, "generic", grant)
        assert status == 202, answer
        assert await drain(env) == 1
        sim.tenant.service_principals[FINREPORT]["appRoleAssignmentRequired"] = False
        await enforce(engine, "timer", only_app=FINREPORT)
    finally:
        wiring.uninstall()
        await queue.close()
        await store.delete_tables()
        await store.close()


def refuse_non_loopback() -> None:
    """Any connection (or name lookup) beyond loopback fails loudly and is reported on stderr."""
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def loopback(host: object) -> bool:
        return str(host) in ("localhost", "::1") or str(host).startswith("127.")

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not loopback(address[0]):
            sys.stderr.write(f"NON-LOOPBACK connect {address[0]}\n")
            raise OSError("non-loopback connection refused in tests")
        return connect(self, address)

    def guarded_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not loopback(host):
            sys.stderr.write(f"NON-LOOPBACK lookup {host}\n")
            raise OSError("non-loopback name lookup refused in tests")
        return lookup(host, *args, **kwargs)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.getaddrinfo = guarded_lookup


def main() -> None:
    refuse_non_loopback()
    # What the worker does with PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true (its logger name default
    # is the root logger), here with live metrics and offline storage off.
    configure_azure_monitor(enable_live_metrics=False, disable_offline_storage=True)
    logging.getLogger("pimwarden").setLevel(logging.INFO)
    asyncio.run(scenario(os.environ["AZURITE"]))
    for provider in (trace.get_tracer_provider(), metrics.get_meter_provider(), _logs.get_logger_provider()):
        provider.force_flush()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
