"""Graph requests per change signal for one steady-state tick: a quiet tenant of already-onboarded apps
with ordinary background churn (other groups and apps changing, unrelated audit entries).

Onboarded state is seeded straight into graphsim (apps, one managed group each, other groups, users);
only the signal cursors live in a fresh Azurite. One baseline tick sets the cursors, 15 minutes pass,
the churn is made through raw Graph calls (plus one change to a managed group, which must be found),
and the measured tick runs the three signal reads the timer's `_gather` runs: the service principal
delta, the group delta over the managed groups, the directory audit since its cursor. Requests are
counted from graphsim's own request log, per route.

Run: .venv/bin/python -m bench.signals [--apps 10000] [--other-groups 50] [--other-apps 20]
     [--unrelated-audits 10] [--max-chunks N]
The same file measures the code it is run against, so the figures before a change come from running
it with PYTHONPATH at the older tree (PYTHONDONTWRITEBYTECODE=1 keeps that tree clean).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx

from devstack.azurite import Azurite
from graphsim import seeding, tenants
from graphsim.app import GraphSim, build_app
from graphsim.directory.audit import CALLER_APP
from graphsim.permissions import RULES
from graphsim.state import Tenant
from graphsim.testing import IN_PROCESS_BASE, StaticCredential, asgi_transport, mint_token
from shared.credentials import manifest_roles
from shared.engine import signals
from shared.engine.discover import discover
from shared.graph.calls import CallRunner
from shared.graph.client import build_graph_client
from shared.graph.gateway import GraphGateway
from shared.storage import StateStore

ROUTES = {
    "servicePrincipals.delta": "sp_delta",
    "groups.delta": "group_delta",
    "auditLogs.directoryAudits.list": "audit",
}
TICK = timedelta(minutes=15)
OVERLAP = timedelta(minutes=15)
UNRELATED = ["Update user", "Reset password", "Add user", "Change user license", "Update device"]


def tenant_body(apps: int, other_groups: int, other_apps: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Seed body and the managed groups (group id -> app id): `apps` high-value apps with one group
    each, `other_apps` apps PIM Warden does not manage, `other_groups` groups of others."""
    body = tenants.generate(apps + other_apps)
    body["users"] = tenants.demo()["users"]
    sps = [sp for sp in body["servicePrincipals"] if sp.get("servicePrincipalType") == "Application"]
    managed = sps[:apps]
    for i, sp in enumerate(sps):
        tags = [t for t in sp.get("tags", []) if t != "HighValue"]
        sp["tags"] = tags + (["HighValue"] if i < apps else [])
    groups, owners = [], {}
    for sp in managed:
        gid = str(uuid.uuid4())
        groups.append(_group(gid, f"pimwarden-{sp['appId']}-default"))
        owners[gid] = sp["id"]
    groups += [_group(str(uuid.uuid4()), f"team-{i}") for i in range(other_groups * 4)]
    body["groups"] = groups
    return body, owners


def _group(gid: str, name: str) -> dict[str, Any]:
    return {"id": gid, "displayName": name, "mailNickname": name[:60], "mailEnabled": False,
            "securityEnabled": True, "uniqueName": name, "groupTypes": []}


def gateway(sim: GraphSim) -> GraphGateway:
    token = mint_token(manifest_roles({}), client=str(CALLER_APP["displayName"]),
                       app_id=str(CALLER_APP["appId"]), object_id=str(CALLER_APP["servicePrincipalId"]))
    client = build_graph_client(IN_PROCESS_BASE, StaticCredential(token), transport=asgi_transport(sim))
    return GraphGateway(client, CallRunner(base_delay_s=0.01), replication_budget_s=5.0)


async def read_signals(
    graph: GraphGateway, store: StateStore, owners: dict[str, str], sim: GraphSim, max_chunks: int | None
) -> tuple[set[str], list[Any]]:
    """One tick's three signal reads, as `_gather` runs them; (apps found, cursors to move)."""
    now = sim.tenant.now
    found = await discover(graph, store.cursors, managed=set(owners.values()))
    pending = [signals.PendingCursor("sp-delta", found.cursor, found.delta_link)]
    extra = {}
    if max_chunks is not None and "max_chunks" in inspect.signature(signals.group_delta_signals).parameters:
        extra["max_chunks"] = max_chunks
    groups = await signals.group_delta_signals(graph, store.cursors, owners, **extra)
    audit = await signals.audit_signals(graph, store.cursors, owners, set(owners.values()), now, OVERLAP)
    apps = set(found.changed) | groups.apps | audit.apps
    return apps, pending + groups.cursors + audit.cursors


async def churn(sim: GraphSim, owners: dict[str, str], args: argparse.Namespace) -> str:
    """Background churn through raw Graph calls; returns the one managed group changed (must be found)."""
    every = sorted({n for rule in RULES.values() for o in rule.accepted for n in o})
    headers = {"Authorization": f"Bearer {mint_token(every, client='Admin')}"}
    transport = asgi_transport(sim)
    async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_BASE, headers=headers) as c:
        users = list(sim.tenant.users)
        managed = set(owners)
        others = [g for g in sim.tenant.groups if g not in managed][: args.other_groups]
        for i, gid in enumerate(others):
            if i % 2:
                r = await c.patch(f"/groups/{gid}", json={"description": f"changed {i}"})
            else:
                r = await c.post(f"/groups/{gid}/members/$ref", json=_ref(users[i % len(users)]))
            assert r.status_code in (200, 204), r.text
        managed_apps = set(owners.values())
        other_apps = [s for s in sim.tenant.service_principals if s not in managed_apps][: args.other_apps]
        for i, sp_id in enumerate(other_apps):
            r = await c.patch(f"/servicePrincipals/{sp_id}", json={"notes": f"changed {i}"})
            assert r.status_code == 204, r.text
        target = sorted(managed)[len(managed) // 2]
        r = await c.post(f"/groups/{target}/members/$ref", json=_ref(users[0]))
        assert r.status_code == 204, r.text
    stamp = sim.tenant.now.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    entries = [
        {"id": f"unrelated-{uuid.uuid4()}", "activityDisplayName": UNRELATED[i % len(UNRELATED)],
         "category": "UserManagement", "loggedByService": "Core Directory", "activityDateTime": stamp,
         "initiatedBy": {"user": {"id": users[0]}, "app": None},
         "targetResources": [{"id": users[i % len(users)], "type": "User"}]}
        for i in range(args.unrelated_audits)
    ]
    seeding.seed(sim.tenant, {"directoryAudits": entries})
    return target


def _ref(object_id: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id}"}


async def run(args: argparse.Namespace, connection: str) -> dict[str, Any]:
    started = time.monotonic()
    body, owners = tenant_body(args.apps, args.other_groups, args.other_apps)
    tenant = Tenant()
    seeding.seed(tenant, body)
    sim = build_app(tenant)
    graph = gateway(sim)
    store = StateStore.from_connection_string(connection, f"b{uuid.uuid4().hex[:12]}")
    try:
        _, pending = await read_signals(graph, store, owners, sim, args.max_chunks)  # the baseline tick
        await signals.move_cursors(store.cursors, pending, sim.tenant.now)
        sim.tenant.advance(TICK)
        target = await churn(sim, owners, args)
        sim.tenant.advance(timedelta(minutes=1))
        mark = len(sim.log)
        apps, _ = await read_signals(graph, store, owners, sim, args.max_chunks)
        counts = Counter(ROUTES.get(str(r.get("route")), str(r.get("route"))) for r in list(sim.log)[mark:])
    finally:
        await store.delete_tables()
        await store.close()
    assert owners[target] in apps, "the changed managed group was not found"
    return {
        "apps": args.apps, "other_groups_changed": args.other_groups, "other_apps_changed": args.other_apps,
        "unrelated_audit_entries": args.unrelated_audits, "max_chunks": args.max_chunks,
        "requests": sum(counts.values()), "per_signal": dict(sorted(counts.items())),
        "managed_apps_found": len(apps & set(owners.values())),
        "elapsed_s": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--other-groups", type=int, default=50)
    parser.add_argument("--other-apps", type=int, default=20)
    parser.add_argument("--unrelated-audits", type=int, default=10)
    parser.add_argument("--max-chunks", type=int, default=None, help="override FILTERED_MAX_CHUNKS")
    args = parser.parse_args()
    with Azurite.start() as azurite:
        print(json.dumps(asyncio.run(run(args, azurite.connection_string))))


if __name__ == "__main__":
    main()
