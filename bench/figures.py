"""The benchmark's arithmetic: what graphsim's request log says about one scenario, and the lower bound
on its wall time that latency, our concurrency and Graph's throttle budgets allow (README: Benchmark).

Kept free of I/O so the definitions can be read (and checked) on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True)
class Budgets:
    """The simulated network and throttle: graphsim's defaults, scaled from Graph's documented limits."""

    latency_s: float = 0.025
    concurrency: int = 8
    read_units_per_10s: float = 3500.0
    writes_per_150s: float = 3000.0


@dataclass(frozen=True)
class LogFigures:
    """Counts from graphsim's request log for one scenario (server side: every attempt is a request)."""

    requests: int  # Graph requests as its throttle counts them: every inner request of a JSON batch
    round_trips: int  # successful HTTP exchanges the client waited for (a JSON batch is one)
    reads_ok: int
    writes_ok: int
    throttled_429: int
    consecutive_429: int


def log_figures(entries: Sequence[dict[str, Any]]) -> LogFigures:
    """Count the Graph requests of a scenario ($batch envelopes and control-plane calls excluded)."""
    graph = [e for e in entries if e["route"] != "$batch" and not str(e["path"]).startswith("/_sim/")]
    ok = [e for e in graph if e["status"] != 429]
    trips = [e for e in entries if not e.get("batch") and not str(e["path"]).startswith("/_sim/")]
    return LogFigures(
        requests=len(graph),
        round_trips=sum(1 for e in trips if e["status"] != 429),
        reads_ok=sum(1 for e in ok if e["method"] not in WRITES),
        writes_ok=sum(1 for e in ok if e["method"] in WRITES),
        throttled_429=len(graph) - len(ok),
        consecutive_429=consecutive_429(graph),
    )


def consecutive_429(entries: Sequence[dict[str, Any]]) -> int:
    """429s whose retry (the next request to the same method and path) was throttled again."""
    last_status: dict[tuple[str, str], int] = {}
    count = 0
    for entry in entries:
        key = (str(entry["method"]), str(entry["path"]))
        if entry["status"] == 429 and last_status.get(key) == 429:
            count += 1
        last_status[key] = int(entry["status"])
    return count


def lower_bound(figures: LogFigures, budgets: Budgets) -> dict[str, float]:
    """The three bounds and their maximum (seconds), for the requests this scenario needed.

    latency: every successful round trip (a JSON batch is one) waits the latency, `concurrency` in flight;
    writes: what exceeds the full write bucket arrives at its refill rate (writes_per_150s / 150 per s);
    reads: the same for resource units, counting each read at the minimum cost of one unit.
    """
    needed = figures.reads_ok + figures.writes_ok
    latency = figures.round_trips * budgets.latency_s / budgets.concurrency
    write_rate = budgets.writes_per_150s / 150.0
    writes = max(0.0, figures.writes_ok - budgets.writes_per_150s) / write_rate
    read_rate = budgets.read_units_per_10s / 10.0
    reads = max(0.0, needed - budgets.read_units_per_10s) / read_rate  # writes spend read units too
    return {"latency_s": latency, "write_s": writes, "read_s": reads, "bound_s": max(latency, writes, reads)}
