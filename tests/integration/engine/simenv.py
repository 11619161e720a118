"""Engine test helpers: graphsim (demo tenant) in-process behind the real msgraph-sdk, Azurite state, and
Services wired the way production wires them, with the engine's clock following graphsim's clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from graphsim import seeding, tenants
from graphsim.app import GraphSim, build_app
from graphsim.state import Tenant
from graphsim.testing import IN_PROCESS_BASE, asgi_transport
from shared.domain.profiles import load_profiles
from shared.engine.config import AttributeMatch, AttributeRef, EngineConfig
from shared.engine.services import Services
from shared.graph.calls import CallRunner
from shared.graph.client import build_graph_client
from shared.graph.gateway import GraphGateway
from shared.settings import Settings, StorageSettings
from shared.storage import StateStore
from tests.tokens import product_credential

CLINICAL = AttributeMatch(AttributeRef("Applications", "Tier"), "HighValue")


async def no_wait(_: float) -> None:
    """Sleeps in the engine and gateway return at once (graphsim's clock moves only when told)."""


@dataclass
class SimClock:
    """The engine's clock reads graphsim's simulated clock, so PIM's time rules agree on both sides."""

    tenant: Tenant

    def now(self) -> datetime:
        return self.tenant.now


def demo_sim() -> GraphSim:
    """graphsim over the demo tenant."""
    tenant = Tenant()
    seeding.seed(tenant, tenants.demo())
    return build_app(tenant)


def gateway_for(
    transport: httpx.AsyncBaseTransport, *, sleep: Callable[[float], Any] = no_wait,
    without: tuple[str, ...] = (),
) -> GraphGateway:
    """A GraphGateway over the real msgraph-sdk, talking to `transport` with PIM Warden's token: exactly
    the manifest's permissions for the settings these tests use (the attribute selector, the shipped
    profiles, one of which asks for protected groups), minus `without`."""
    credential = product_credential(attribute=True, protected_groups=True, without=without)
    client = build_graph_client(IN_PROCESS_BASE, credential, transport=transport)
    return GraphGateway(
        client, CallRunner(sleep=sleep, base_delay_s=0.01), sleep=sleep, replication_budget_s=5.0
    )


def make_services(
    sim: GraphSim,
    store: StateStore,
    azurite: str,
    *,
    graph: Any = None,
    holder: str = "test-engine",
    **config: Any,
) -> Services:
    """Services over graphsim and the test's store."""
    settings = Settings(storage=StorageSettings(connection_string=azurite), run_budget_seconds=60)
    engine = EngineConfig(**{"high_value_attribute": CLINICAL, "replication_wait_seconds": 5.0, **config})
    return Services(
        settings=settings,
        config=engine,
        store=store,
        graph=graph or gateway_for(asgi_transport(sim)),
        profiles=load_profiles(),
        clock=SimClock(sim.tenant),
        sleep=no_wait,
        holder=holder,
    )


def writes_since(sim: GraphSim, mark: int) -> list[dict[str, Any]]:
    """Graph write requests graphsim saw after log position `mark` (control plane excluded).

    A JSON batch is a POST that writes nothing by itself; graphsim logs each inner request on its own,
    so an inner write still counts here."""
    return [
        r for r in list(sim.log)[mark:]
        if r["method"] in ("POST", "PATCH", "PUT", "DELETE") and r.get("route") != "$batch"
    ]


def app_by_name(sim: GraphSim, name: str) -> dict[str, Any]:
    """The demo service principal with this display name."""
    return next(sp for sp in sim.tenant.service_principals.values() if sp["displayName"] == name)


def user_by_upn(sim: GraphSim, prefix: str) -> dict[str, Any]:
    """The demo user whose UPN starts with `prefix`."""
    return next(u for u in sim.tenant.users.values() if u["userPrincipalName"].startswith(prefix))


def managed_groups(sim: GraphSim) -> list[dict[str, Any]]:
    """Groups PIM Warden created (by uniqueName)."""
    return [g for g in sim.tenant.groups.values() if str(g.get("uniqueName", "")).startswith("pimwarden-")]


def eligibilities(sim: GraphSim, group_id: str) -> list[dict[str, Any]]:
    """Member eligibility schedules of a group, from graphsim's state dump."""
    state = seeding.dump(sim.tenant)
    items = state.get("eligibilitySchedules", [])
    return [e for e in items if e.get("groupId") == group_id and e.get("accessId") == "member"]
