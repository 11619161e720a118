"""`make bench-scale`: many high-value apps through the queue fan-out, N worker processes vs 1.

graphsim runs in its own process with 25 ms latency and its Graph-like throttle (documented limits,
unscaled); Azurite is fresh. The timer's real entry point (`shared.functions.enforce.run_tick`) runs in
this process and enqueues; N worker processes (bench/scale_worker.py) stand in for N Functions
instances, each importing `function_app` and running the real queue trigger over the real queue with
host.json's queue settings. A scenario ends when its tick's counters (Table Storage) say every
enqueued app is finished. Scenarios: cold onboarding, the tick after it, a steady-state tick, 1%
drift, a full audit (every app read, nothing to write); then the same with one instance. Figures go to
bench/results-scale.json; definitions are in the README (Benchmark).

Run: .venv/bin/python -m bench.scale [--apps 10000] [--instances 4] [--compare 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from bench import drift
from bench.enforcement import TICK, TickClock, write_tenant
from bench.figures import Budgets, log_figures, lower_bound
from devstack.azurite import REPO_ROOT, Azurite
from devstack.graphsim_server import GraphsimServer
from devstack.stack import local_environment, mint_admin_token, sync_sim_clock
from graphsim import tenants
from shared import runtime
from shared.api import wiring
from shared.engine.worker import reconcile_one
from shared.functions.enforce import run_tick
from shared.graph.counting import counting
from shared.storage.ticks import Tick

RESULTS = REPO_ROOT / "bench" / "results-scale.json"
POLL_S = 2.0
SCENARIO_LIMIT_S = 3 * 3600


@dataclass
class Workers:
    """N stand-in instances (worker processes) and what they reported when stopped."""

    count: int
    folder: Path
    queue_args: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, offset_s: float = 0.0) -> None:
        for n in range(self.count):
            ready = self.folder / f"ready-{n}"
            ready.unlink(missing_ok=True)
            log = (self.folder / f"worker-{n}.log").open("ab")
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "bench.scale_worker", "--ready", str(ready),
                 "--out", str(self.folder / f"out-{n}.json"), "--clock-offset-s", str(offset_s),
                 *self.queue_args],
                cwd=REPO_ROOT, env=dict(os.environ), stdout=log, stderr=log))
        deadline = time.monotonic() + 120
        while not all((self.folder / f"ready-{n}").exists() for n in range(self.count)):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"a worker did not start: see {self.folder}")
            time.sleep(0.1)

    def stop(self) -> list[dict[str, Any]]:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=120)
        self.processes.clear()
        return [json.loads((self.folder / f"out-{n}.json").read_text()) for n in range(self.count)]


class GraphLog:
    """graphsim's request log read in parts (it keeps the last 20,000), so a long run loses nothing."""

    def __init__(self, control: httpx.Client) -> None:
        self.control = control
        self.after = int(control.get("/_sim/requests", params={"after": 10**12}).json()["logged"])
        self.entries: list[dict[str, Any]] = []
        self.complete = True

    def poll(self) -> None:
        answer = self.control.get("/_sim/requests", params={"after": self.after}).json()
        part = answer["requests"]
        if part and part[0]["seq"] != self.after + 1:
            self.complete = False  # entries dropped out of the log between two polls
        self.entries += part
        self.after = int(answer["logged"])


class ScaleBench:
    """One graphsim + Azurite; scenarios through the real timer and N worker processes."""

    def __init__(self, graph: GraphsimServer, apps: int, instances: int, folder: Path,
                 batch: tuple[int, int] | None) -> None:
        self.control = httpx.Client(base_url=graph.root, timeout=120)
        self.apps, self.instances = apps, instances
        settings = json.loads((REPO_ROOT / "host.json").read_text())["extensions"]["queues"]
        self.batch = batch or (int(settings["batchSize"]), int(settings["newBatchThreshold"]))
        args = ["--batch-size", str(self.batch[0]), "--new-batch-threshold", str(self.batch[1])]
        self.workers = Workers(instances, folder, args if batch else [])
        self.budgets = Budgets(concurrency=sum(self.batch) * instances)
        self.clock = TickClock()

    def next_tick(self) -> None:
        """The next timer tick, 15 minutes on (audit entries older than the overlap window drop out)."""
        self.clock.offset += TICK

    async def scenario(self, name: str, *, full: bool = False, **extra: Any) -> dict[str, Any]:
        """Start the workers, run one timer tick (the full audit's with `full`), wait until its apps are
        finished, stop the workers."""
        api = wiring.current()
        api.engine = replace(api.engine, clock=self.clock)  # the timer's clock: ticks 15 minutes apart
        self.workers.start(self.clock.offset.total_seconds())
        sync_sim_clock(self.control, self.clock.now())
        log = GraphLog(self.control)
        before = await api.engine.store.ticks.latest()
        started = time.monotonic()
        summary = await run_tick(full=full, past_due=False)
        tick = await self._finished(api, before, log) if summary.enqueued else None
        wall = time.monotonic() - started
        reports = self.workers.stop()
        log.poll()
        print(f"  {name} ({self.instances} instance(s)): {summary.line()} wall_s={wall:.1f}", flush=True)
        return self.row(name, wall, log, summary.graph_requests, tick, reports, extra)

    async def _finished(self, api: wiring.ApiServices, before: Tick | None, log: GraphLog) -> Tick:
        deadline = time.monotonic() + SCENARIO_LIMIT_S
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            log.poll()
            tick = await api.engine.store.ticks.latest()
            new = tick is not None and (before is None or tick.tick_id != before.tick_id)
            if tick is not None and new and tick.remaining == 0:
                return tick
            if tick is not None and tick.counts.last_at is not None:
                print(f"    {tick.counts.finished:,} of {tick.enqueued:,} apps, "
                      f"{tick.counts.throttled} throttled", flush=True)
        raise TimeoutError("the tick did not finish in time")

    def row(self, name: str, wall: float, log: GraphLog, dispatch_requests: int, tick: Tick | None,
            reports: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
        figures = log_figures(log.entries)
        bound = lower_bound(figures, self.budgets)
        counts = tick.counts if tick else None
        cpu = sum(r["cpu_s"] for r in reports)
        finished = counts.finished if counts else 0
        requests = dispatch_requests + (counts.requests if counts else 0)
        return {
            "scenario": name, "apps": self.apps, "instances": self.instances,
            "batch_size": self.batch[0], "new_batch_threshold": self.batch[1], "wall_s": round(wall, 2),
            "graph_requests": requests,
            "graph_writes": counts.writes if counts else 0,
            "requests_per_app": round(requests / self.apps, 3),
            "lower_bound_s": round(bound["bound_s"], 2),
            "ratio": round(wall / bound["bound_s"], 2) if bound["bound_s"] else None,
            "bounds_s": {k: round(v, 2) for k, v in bound.items() if k != "bound_s"},
            "throttled_429": figures.throttled_429, "consecutive_429": figures.consecutive_429,
            "server_requests": figures.requests, "server_log_complete": log.complete,
            "apps_enqueued": tick.enqueued if tick else 0, "apps_changed": counts.changed if counts else 0,
            "apps_failed": (counts.failed + counts.poisoned) if counts else 0,
            "retries": counts.retried if counts else 0,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in reports),
            "worker_cpu_s": round(cpu, 2),
            "worker_cpu_s_per_app": round(cpu / finished, 4) if finished else None,
            "worker_import_s": max(r["import_s"] for r in reports),
            **extra,
        }

    async def drift_scenario(self, count: int, steady_requests: int) -> dict[str, Any]:
        """Change `count` apps the way people do, then one tick; requests against the repairs' minimum."""
        api = wiring.current()
        records = sorted(await api.engine.store.apps.list(), key=lambda r: r.app_id)
        users = tenants.demo()["users"]
        step = max(1, len(records) // count)
        targets = [drift.Target(r.app_id, next(iter(r.role_groups.values())), users[i % len(users)]["id"])
                   for i, r in enumerate(records[::step][:count])]
        untouched = next(r.app_id for r in records if r.app_id not in {t.sp_id for t in targets})
        with counting() as one:  # what looking at one unchanged app costs (no write)
            await reconcile_one(api.engine, untouched, "bench")
        token = mint_admin_token(self.control)
        async with httpx.AsyncClient(base_url=self.control.base_url, timeout=60,
                                     headers={"Authorization": f"Bearer {token}"}) as http:
            kinds = await drift.inject(http, targets)
        row = await self.scenario("drift_1pct", drift_kinds=kinds, reads_per_unchanged_app=one.requests)
        # The minimum: the tick's own signal reads (a steady tick's cost), each drifted app looked at
        # once, and the writes that repair it (every write of this tick was a repair: nothing else changed).
        minimum = steady_requests + len(targets) * one.requests + int(row["graph_writes"])
        row["minimum_requests"] = minimum
        row["ratio_to_minimum"] = round(row["graph_requests"] / minimum, 2)
        return row


async def run(graph: GraphsimServer, azurite: Azurite, apps: int, instances: int, folder: Path,
              batch: tuple[int, int] | None, cold_only: bool) -> list[dict[str, Any]]:
    """Cold onboarding, the tick after it, a steady tick, 1% drift (or only the first)."""
    env = local_environment(graph.base_url, azurite.connection_string)
    os.environ.update(env)
    runtime.reset()
    wiring.uninstall()
    bench = ScaleBench(graph, apps, instances, folder, batch)
    bench.control.post("/_sim/faults", json={"latency_ms": 25, "throttle": True}).raise_for_status()
    try:
        rows = [await bench.scenario("cold_onboarding")]
        if cold_only:
            return rows
        bench.next_tick()
        rows.append(await bench.scenario("first_tick_after_onboarding"))
        bench.next_tick()
        steady = await bench.scenario("steady_state_tick")
        rows.append(steady)
        bench.next_tick()
        rows.append(await bench.drift_scenario(max(1, apps // 100), int(steady["graph_requests"])))
        bench.next_tick()
        rows.append(await bench.scenario("full_audit", full=True))  # every app read: where fan-out helps
        return rows
    finally:
        bench.control.close()
        wiring.uninstall()
        await runtime.aclose()


def main(argv: list[str] | None = None) -> int:
    """Run the scale benchmark for N instances and for the comparison; write bench/results-scale.json."""
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    p.add_argument("--apps", type=int, default=10_000)
    p.add_argument("--instances", type=int, default=4)
    p.add_argument("--compare", type=int, default=1, help="instances for the comparison run (0: none)")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--batch-size", type=int, help="override host.json's batchSize (a sweep)")
    p.add_argument("--new-batch-threshold", type=int, help="override host.json's newBatchThreshold")
    p.add_argument("--cold-only", action="store_true", help="only the cold onboarding scenario")
    args = p.parse_args(argv)
    batch = None
    if args.batch_size:
        batch = (args.batch_size, args.new_batch_threshold or args.batch_size // 2)
    rows: list[dict[str, Any]] = []
    for instances in [args.instances] + ([args.compare] if args.compare else []):
        with tempfile.TemporaryDirectory(prefix="pimwarden-scale-") as name:
            folder = Path(name)
            seed = write_tenant(args.apps, folder)
            print(f"graphsim ({args.apps} high-value apps), Azurite, {instances} instance(s) ...", flush=True)
            with GraphsimServer.start(tenant=str(seed)) as graph, Azurite.start() as azurite:
                rows += asyncio.run(run(graph, azurite, args.apps, instances, folder, batch, args.cold_only))
        args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
