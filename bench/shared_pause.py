"""What sharing the Graph throttle pause across instances buys, and pacing writes once the write budget is
reached: N CallRunners in one process (each with its own msgraph-sdk client and, when shared, its own
StateStore over the same Azurite tables: N "instances") send writes against graphsim's drained write
bucket: each instance's own pause only; the shared pause; the shared pause and pacing (pacing.py, told
graphsim's rate); `paced-alone`: pacing without the shared record (each instance counts itself only).

Real time and real sleeps (graphsim's buckets refill by wall time). `throttled_429`: 429 answers
(graphsim's log); `again_429`: retries throttled again, counted by the runners per request ("429 twice
in a row"); `consecutive_429`: the same from graphsim's log (429s whose next request to the same method and
path was a 429 too: each writer has its own app, so they differ only where a writer's next request
follows one given up). `burst`: writes that went before the
first 429 (what the bucket refilled while it was drained); `bound_s`: the other writes at the refill
rate; `ratio` = wall / bound (below 1 when writes were given up).

Run: .venv/bin/python bench/shared_pause.py [--instances 4] [--workers 8] [--writes 10] [--per-150s 3000]
     [--modes own shared paced] [--cache 1.0] [--safety 0.95]
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
from shared.graph.pacing import PacingConfig
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


async def scenario(azurite: str, args: argparse.Namespace, mode: str, cache_s: float) -> dict[str, Any]:
    shared, rate = mode in ("shared", "paced"), args.per_150s / 150.0
    pacing = PacingConfig(writes_per_s=rate, safety=args.safety) if "paced" in mode else None
    sim = build_app(load(f"generate:{args.instances * args.workers}"))  # one app per writer
    apps = [ServicePrincipalId(sp["id"]) for sp in sim.tenant.service_principals.values()]
    prefix = f"bench{uuid.uuid4().hex[:10]}"
    stores = [StateStore.from_connection_string(azurite, prefix) for _ in range(args.instances)]
    credential, transport = StaticCredential(TOKEN), httpx.ASGITransport(app=sim)
    gateways = [
        GraphGateway(
            build_graph_client(IN_PROCESS_BASE, credential, transport=transport),
            CallRunner(
                base_delay_s=0.05, shared_pause=store.throttle if shared else None, shared_cache_s=cache_s,
                pacing=pacing, instance=f"bench-{n}",
            ),
        )
        for n, store in enumerate(stores)
    ]
    await stores[0].throttle.paused_until("write")  # create the table before the clock starts
    await drain(sim, args.per_150s)
    mark, started, wall_start = len(sim.log), time.monotonic(), time.time()

    gave_up = 0

    async def worker(gateway: GraphGateway, app: ServicePrincipalId) -> None:
        nonlocal gave_up
        for _ in range(args.writes):
            try:
                await gateway.require_assignment(app)
            except ThrottledError:
                gave_up += 1  # throttled on every attempt (CallRunner's max_attempts)

    await asyncio.gather(
        *(worker(g, apps[i * args.workers + n]) for i, g in enumerate(gateways) for n in range(args.workers))
    )
    elapsed = time.monotonic() - started
    log = [e for e in list(sim.log)[mark:] if not str(e["path"]).startswith("/_sim/")]
    await stores[0].delete_tables()
    for store in stores:
        await store.close()
    writes = args.instances * args.workers * args.writes
    first_429 = next((i for i, e in enumerate(log) if e["status"] == 429), len(log))
    burst = sum(1 for e in log[:first_429] if e["method"] == "PATCH")  # what the drained bucket had left
    bound = (writes - burst) / rate
    names = {
        "own": "own pause only", "shared": "shared pause", "paced": "shared pause + pacing",
        "paced-alone": "own pause + pacing (no instance count)",
    }
    return {
        "scenario": names[mode] + (f" (cache {cache_s} s)" if shared else ""),
        "writes": writes,
        "requests": len(log),
        "throttled_429": sum(1 for e in log if e["status"] == 429),
        "again_429": sum(g.runner.stats.throttled_again for g in gateways),
        "consecutive_429": consecutive_429(log),
        "gave_up": gave_up,
        "last_429_s": max((round(e["time"] - wall_start, 1) for e in log if e["status"] == 429), default=0),
        "wall_s": round(elapsed, 1),
        "burst": burst,
        "bound_s": round(bound, 1),  # the writes past the burst at the refill rate
        "ratio": round(elapsed / bound, 3),
    }


async def main(args: argparse.Namespace) -> None:
    with Azurite.start() as azurite:
        for mode in args.modes:
            for cache_s in args.cache if mode in ("shared", "paced") else [0.0]:
                print(json.dumps(await scenario(azurite.connection_string, args, mode, cache_s)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--workers", type=int, default=8, help="concurrent writers per instance")
    parser.add_argument("--writes", type=int, default=10, help="writes per worker")
    parser.add_argument("--per-150s", type=int, default=3000, help="graphsim's writes (Graph: 20/s)")
    modes = ["own", "shared", "paced", "paced-alone"]
    parser.add_argument("--modes", nargs="*", default=modes[:3], choices=modes)
    parser.add_argument("--cache", type=float, nargs="*", default=[1.0], help="shared-pause cache TTLs")
    parser.add_argument("--safety", type=float, default=0.95, help="pacing: share of the rate used")
    asyncio.run(main(parser.parse_args()))
