"""`make chaos`: PIM Warden on a bad day, then faults off: does it converge with nothing lost?

graphsim (demo tenant) runs as a real server with lost responses, 5xx answers, replication delay,
throttling and latency switched on; the operator CLI (`python -m shared apply`) runs as real
processes, one or two at once, and a seeded schedule SIGKILLs many of them at random moments.
Grants are recorded and one is revoked in between. Then faults go off and the CLI applies until it
is done. The end state must hold: one group per app role, each role granted by that one group, the
revoked user not eligible, `plan --detailed-exitcode` 0, a second apply with zero writes, every
Graph write that landed recorded in the audit table, no audit row left pending.

    python -m devstack.chaos [--seed N] [--rounds N]      # prints the figures; exit 1 on a problem
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from devstack.azurite import REPO_ROOT, Azurite
from devstack.chaos_checks import Figures, check_end_state
from devstack.graphsim_server import GraphsimServer
from devstack.stack import local_environment, sync_sim_clock
from shared.engine.grants import GrantRequest, record_grant
from shared.storage import StateStore

FAULTS: dict[str, Any] = {"latency_ms": 5, "replication_delay_s": 0.5}
FAULTS_OFF: dict[str, Any] = {
    "latency_ms": 0, "error_rate": 0, "lost_response_rate": 0, "replication_delay_s": 0, "throttle": False,
}
APP = "FinReport SQL"
GRANTED, REVOKED, LATE = "ada@", "grace@", "operator@"
_WRITES = re.compile(r"graph_writes=(\d+)")


@dataclass(frozen=True)
class ChaosPlan:
    """How hard a run is: `rounds` of applies, a share of them killed at a random moment."""

    seed: int = 7
    rounds: int = 6
    kill_rate: float = 0.6
    kill_within_s: float = 6.0  # a CLI process needs 2-3 s to start: most kills hit it at work
    process_timeout_s: float = 180.0
    error_rate: float = 0.05  # 503/504 before the request is handled
    lost_response_rate: float = 0.12  # the write is done, its answer replaced by a 503/504
    read_units_per_10s: int = 30  # throttling far below Graph's figures, so that 429s do happen
    writes_per_150s: int = 60

    def faults(self) -> dict[str, Any]:
        throttle = {"enabled": True, "read_units_per_10s": self.read_units_per_10s,
                    "writes_per_150s": self.writes_per_150s}
        return {**FAULTS, "error_rate": self.error_rate, "lost_response_rate": self.lost_response_rate,
                "throttle": throttle, "seed": self.seed}


@dataclass
class Stack:
    """Where the CLI runs against, and its settings."""

    graph: GraphsimServer
    storage: str
    prefix: str = field(default_factory=lambda: f"chaos{uuid.uuid4().hex[:10]}")
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pimwarden-chaos-")))

    def env(self) -> dict[str, str]:
        import os

        overrides = {"PIMWARDEN_TABLE_PREFIX": self.prefix, "PIMWARDEN_LEASE_SECONDS": "30",
                     "PIMWARDEN_REPLICATION_WAIT_SECONDS": "6"}
        return {**os.environ, **local_environment(self.graph.base_url, self.storage, **overrides)}


class Cli:
    """`python -m shared ...` as real processes; every one started here is ended here."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.env, self.count = stack, stack.env(), 0

    def start(self, *argv: str) -> subprocess.Popen[bytes]:
        self.count += 1
        log = (self.stack.logs / f"{self.count:03d}-{argv[0]}.log").open("wb")
        return subprocess.Popen(  # noqa: S603 - argv is ours
            [sys.executable, "-m", "shared", "--as", "chaos", *argv], cwd=REPO_ROOT, env=self.env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def run(self, *argv: str, timeout: float = 300.0) -> tuple[int, str]:
        self.count += 1
        done = subprocess.run(  # noqa: S603 - argv is ours
            [sys.executable, "-m", "shared", "--as", "chaos", *argv], cwd=REPO_ROOT, env=self.env,
            capture_output=True, text=True, timeout=timeout, check=False)
        output = done.stdout + done.stderr
        (self.stack.logs / f"{self.count:03d}-{argv[0]}.log").write_text(f"exit {done.returncode}\n{output}")
        return done.returncode, output


def run_chaos(stack: Stack, plan: ChaosPlan) -> Figures:
    """The whole bad day and its end state's figures."""
    figures, started, cli = Figures(seed=plan.seed, rounds=plan.rounds), time.monotonic(), Cli(stack)
    with httpx.Client(base_url=stack.graph.root, timeout=30.0) as sim:
        app, users = _set_up(sim, stack, plan)
        _bad_day(sim, stack, cli, plan, app, users, figures)
        sim.post("/_sim/faults", json=FAULTS_OFF).raise_for_status()
        figures.faults = _faults(sim.get("/_sim/requests").json()["requests"])
        _settle(sim, cli, figures)
        requests = sim.get("/_sim/requests").json()["requests"]
        state = sim.get("/_sim/state").json()
    figures.cli_runs = cli.count
    asyncio.run(check_end_state(stack.storage, stack.prefix, state, requests, users[REVOKED]["id"], figures))
    figures.elapsed_s = time.monotonic() - started
    return figures


def _set_up(sim: httpx.Client, stack: Stack, plan: ChaosPlan) -> tuple[str, dict[str, dict[str, Any]]]:
    """Faults on, two grants; returns the app id and the users."""
    sim.post("/_sim/faults", json=plan.faults()).raise_for_status()
    state = sim.get("/_sim/state").json()
    users = {u["userPrincipalName"].split("@")[0] + "@": u for u in state["users"]}
    app = next(sp["id"] for sp in state["servicePrincipals"] if sp["displayName"] == APP)
    asyncio.run(_grant(stack, app, users[GRANTED], users[REVOKED]))
    return app, users


def _bad_day(sim: httpx.Client, stack: Stack, cli: Cli, plan: ChaosPlan, app: str,
             users: dict[str, dict[str, Any]], figures: Figures) -> None:
    """The rounds of killed and finished applies; half-way, a revoke and a new grant."""
    rng = random.Random(plan.seed)
    for round_no in range(plan.rounds):
        if round_no == plan.rounds // 2:
            # The grants reach PIM (waiting out leases of killed runs), then one of them is revoked.
            _until_ok(cli, "apply", "--app", app, "--wait", "60", "--detailed-exitcode")
            _clock(sim)
            figures.revoke_exit = _until_ok(cli, "revoke", "--app", app, "--user", users[REVOKED]["id"])
            asyncio.run(_grant(stack, app, users[LATE]))
        _clock(sim, behind=timedelta(minutes=10) if round_no < plan.rounds // 2 else timedelta(0))
        figures.kills += _round(cli, rng, plan, cold=round_no == 0)


def _clock(sim: httpx.Client, behind: timedelta = timedelta(0)) -> None:
    """graphsim's clock moves only when told: set it to now, or `behind` now. Eligibilities made
    before the revoke are created 10 minutes back (graphsim's clock), so PIM's five-minute rule
    lets them be removed at once after it, by the engine's clock and by graphsim's; they show as
    eligible once the clock is set to now again (the engine asks for them to start at its now)."""
    sync_sim_clock(sim, datetime.now(UTC) - behind)


def _settle(sim: httpx.Client, cli: Cli, figures: Figures) -> None:
    """Faults off: apply until done (waiting out killed runs' leases), plan, apply once more."""
    _clock(sim)
    figures.final_apply_exit = _until_ok(cli, "apply", "--full", "--wait", "120", "--detailed-exitcode")
    _clock(sim)
    figures.plan_exit, _ = cli.run("plan", "--detailed-exitcode")
    code, out = cli.run("apply", "--full", "--detailed-exitcode")
    found = _WRITES.search(out)
    figures.second_apply_writes = int(found.group(1)) if found and code == 0 else -1


def _round(cli: Cli, rng: random.Random, plan: ChaosPlan, *, cold: bool = False) -> int:
    """One or two applies at once (sometimes --full), each killed at a seeded moment or let finish;
    the `cold` onboarding is always killed, 1-3.5 s after its start (a CLI takes 1-3 s to start)."""
    argvs = [["apply"]] * (2 if rng.random() < 0.25 else 1)
    if rng.random() < 0.2:
        argvs[0] = ["apply", "--full"]
    kill_at = [rng.uniform(0.05, plan.kill_within_s) if rng.random() < plan.kill_rate else None
               for _ in argvs]
    if cold:
        kill_at[0] = rng.uniform(1.0, 3.5)
    began = time.monotonic()
    procs = [cli.start(*argv) for argv in argvs]
    kills = 0
    for proc, at in zip(procs, kill_at, strict=True):
        if at is not None:
            try:
                proc.wait(timeout=max(0.0, began + at - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()  # SIGKILL: no cleanup, leases stay held until they run out
                kills += 1
        try:
            proc.wait(timeout=plan.process_timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return kills


def _until_ok(cli: Cli, *argv: str, attempts: int = 5) -> int:
    code = -1
    for _ in range(attempts):
        code, _ = cli.run(*argv)
        if code == 0:
            break
    return code


async def _grant(stack: Stack, app_id: str, *users: dict[str, Any]) -> None:
    store = StateStore.from_connection_string(stack.storage, stack.prefix)
    try:
        now = datetime.now(UTC)
        for user in users:
            await record_grant(store, GrantRequest(
                app_id=app_id, principal_id=user["id"], starts=now - timedelta(minutes=10),
                ends=now + timedelta(days=2), justification="chaos: on call", source="operator:chaos",
                principal_upn=user["userPrincipalName"]), now)
    finally:
        await store.close()


def _faults(requests: list[dict[str, Any]]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for r in requests:
        if r["status"] == 429:
            kinds["throttled (429)"] += 1
        elif r["status"] in (503, 504):
            kinds["lost response (write landed, 5xx)" if r.get("landed") else "5xx"] += 1
    return kinds


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(prog="python -m devstack.chaos")
    args.add_argument("--seed", type=int, default=7)
    args.add_argument("--rounds", type=int, default=30)
    parsed = args.parse_args(argv)
    with Azurite.start() as azurite, GraphsimServer.start(tenant="demo") as graph:
        stack = Stack(graph, azurite.connection_string)
        figures = run_chaos(stack, ChaosPlan(parsed.seed, parsed.rounds))
    print(json.dumps(figures.report(), indent=2))
    print(f"CLI output of every run: {stack.logs}")
    for problem in figures.problems():
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if figures.problems() else 0


if __name__ == "__main__":
    raise SystemExit(main())
