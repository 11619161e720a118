"""Microsoft Graph unreachable during intake (a closed loopback port): 503 naming the directory, never
`storage_unavailable` (storage is fine); the answer asks for a retry."""

from __future__ import annotations

import json
from dataclasses import replace

from devstack.process import free_port
from graphsim.testing import StaticCredential
from shared.api import wiring
from shared.graph.calls import CallRunner
from shared.graph.client import build_graph_client
from shared.graph.gateway import GraphGateway
from tests.integration.engine.simenv import no_wait

from .conftest import FINREPORT, Env, post_ticket, sign_standard
from .test_tickets_flow import generic


def graph_down(env: Env) -> None:
    client = build_graph_client(f"http://127.0.0.1:{free_port()}/v1.0", StaticCredential())
    gateway = GraphGateway(client, CallRunner(sleep=no_wait, base_delay_s=0.01), sleep=no_wait)
    wiring.install(replace(env.api, engine=replace(env.engine, graph=gateway)))


async def test_graph_down_is_503_directory_unavailable_for_every_intake_path(env: Env) -> None:
    app_id = next(sp["appId"] for sp in env.sim.tenant.service_principals.values() if sp["id"] == FINREPORT)
    graph_down(env)
    bodies = [
        generic("grant", "RITM1"),  # the user is looked up
        generic("grant", "RITM2", app=app_id),  # the app, named by its appId, is looked up
        generic("revoke", "RITM3", user="ada@contoso.com"),  # the user of a revoke is looked up
    ]
    for body in bodies:
        status, answer = await post_ticket("generic", body, sign_standard(env, body))
        assert (status, answer["error_code"]) == (503, "directory_unavailable"), json.loads(body)
        assert "Graph" in answer["message"]
