"""What sharing the Graph throttle pause across instances buys: N CallRunners in one process (each with its
own msgraph-sdk client and, when shared, its own StateStore over the same Azurite tables: N "instances")
send a burst of writes against graphsim's write throttle, with and without the shared pause.

Real time and real sleeps (graphsim's buckets refill by wall time). Counts come from graphsim's request
log: 429 answers, and 429s whose retry of the same request was throttled again ("in a row").

Run: .venv/bin/python bench/shared_pause.py [--instances 4] [--workers 4] [--writes 5] [--per-150s 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import consecutive_429
from devstack.azurite import Azurite
from graphsim.app import GraphSim, build_app
from graphsim.tenants import load
from graphsim.testing import IN_PROCESS_BASE, StaticCredential, mint_token
from shared.domain.ids import ServicePrincipalId
from shared.graph.calls import CallRunner
from shared.graph.client import build_graph_client
from shared.graph.errors import ThrottledError
from shared.graph.gateway import GraphGateway
from shared.storage import StateStore

TOKEN = mint_token(["Application.ReadWrite.All"], client="shared pause bench")
ADMIN = {"Authorization": f"Bearer {mint_token(['Group.ReadWrite.All'], client='bench admin')}"}


async def drain(sim: GraphSim, per_150s: int) -> None:
    """Throttle on; spend the whole write bucket first, so the burst runs at the refill rate."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim), base_url="https://g") as http:
        await http.post("/_sim/faults", json={"throttle": {"writes_per_150s": per_150s}})
        body = {"displayName": "D", "mailEnabled": False, "securityEnabled": True}
        for i in range(per_150s):
            answer = await http.post("/v1.0/groups", json=body | {"mailNickname": f"d{i}"}, headers=ADMIN)
            assert answer.status_code == 201, answer.text


async def scenario(
    azurite: str, args: argparse.Namespace, *, shared: bool, cache_s: float = 1.0
) -> dict[str, Any]:
    sim = build_app(load("demo"))
    apps = [ServicePrincipalId(sp["id"]) for sp in sim.tenant.service_principals.values()]
    prefix = f"bench{uuid.uuid4().hex[:10]}"
    stores = [StateStore.from_connection_string(azurite, prefix) for _ in range(args.instances)]
    credential, transport = StaticCredential(TOKEN), httpx.ASGITransport(app=sim)
    gateways = [
        GraphGateway(
            build_graph_client(IN_PROCESS_BASE, credential, transport=transport),
            CallRunner(
                base_delay_s=0.05, shared_pause=store.throttle if shared else None, shared_cache_s=cache_s
            ),
        )
        for store in stores
    ]
    await stores[0].throttle.paused_until("write")  # create the table before the clock starts
    await drain(sim, args.per_150s)
    mark, started = len(sim.log), time.monotonic()

    gave_up = 0

    async def worker(gateway: GraphGateway, n: int) -> None:
        nonlocal gave_up
        for i in range(args.writes):
            try:
                await gateway.require_assignment(apps[(n + i) % len(apps)])
            except ThrottledError:
                gave_up += 1  # throttled on every attempt (CallRunner's max_attempts)

    await asyncio.gather(*(worker(g, n) for g in gateways for n in range(args.workers)))
    elapsed = time.monotonic() - started
    log = [e for e in list(sim.log)[mark:] if not str(e["path"]).startswith("/_sim/")]
    await stores[0].delete_tables()
    for store in stores:
        await store.close()
    writes = args.instances * args.workers * args.writes
    return {
        "scenario": f"shared pause (cache {cache_s} s)" if shared else "own pause only",
        "writes": writes,
        "requests": len(log),
        "throttled_429": sum(1 for e in log if e["status"] == 429),
        "consecutive_429": consecutive_429(log),
        "gave_up": gave_up,
        "wall_s": round(elapsed, 1),
        "refill_s": round(writes / (args.per_150s / 150.0), 1),  # writes at the refill rate
    }


async def main(args: argparse.Namespace) -> None:
    with Azurite.start() as azurite:
        rows = [await scenario(azurite.connection_string, args, shared=False)]
        for cache_s in args.cache:
            rows.append(await scenario(azurite.connection_string, args, shared=True, cache_s=cache_s))
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4, help="concurrent writers per instance")
    parser.add_argument("--writes", type=int, default=5, help="writes per worker")
    parser.add_argument("--per-150s", type=int, default=600, help="graphsim's write budget (600: 4 per s)")
    parser.add_argument("--cache", type=float, nargs="*", default=[1.0, 0.25], help="shared-pause cache TTLs")
    asyncio.run(main(parser.parse_args()))
