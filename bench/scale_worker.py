"""One stand-in Functions instance for `make bench-scale` (NOT deployed): it imports `function_app` as a
new instance does, then runs the real queue triggers over the real queue (devstack.queue_host, with
host.json's queue settings) until it gets SIGTERM, and writes what it cost.

Run by bench/scale.py: python -m bench.scale_worker --ready R --out O (settings from the env).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.enforcement import peak_rss_mb
from devstack.azurite import REPO_ROOT
from shared.queue_names import RECONCILE_QUEUE


@dataclass(frozen=True)
class OffsetClock:
    """The wall clock moved on by `offset`: ticks 15 minutes apart without waiting 15 minutes."""

    offset: timedelta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def cpu_seconds() -> float:
    """User + system CPU of this process so far (the OS's accounting)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def serve(
    batch_size: int | None, threshold: int | None, offset_s: float, queue: str
) -> dict[str, int]:
    """Run the queue triggers until SIGTERM (host.json's queue settings unless overridden: the
    benchmark's sweep) on the benchmark's clock (the wall clock moved on by `offset_s`, as the timer's
    and graphsim's); the listener's counts."""
    from devstack.queue_host import QueueHost, QueueSettings
    from shared import runtime
    from shared.api import wiring
    from shared.functions import reconcile
    from shared.settings import STORAGE_CONNECTION

    settings = QueueSettings.from_host_json(json.loads((REPO_ROOT / "host.json").read_text()))
    if batch_size is not None:
        settings = replace(settings, batch_size=batch_size, new_batch_threshold=threshold or batch_size // 2)
    host = QueueHost(os.environ[STORAGE_CONNECTION], settings)
    host.listen(queue, reconcile.reconcile)
    host.listen(f"{queue}-poison", reconcile.reconcile_poison)
    api = wiring.current()  # what the queue trigger will use, with the benchmark's clock
    api.engine = replace(api.engine, clock=OffsetClock(timedelta(seconds=offset_s)))
    wiring.install(api)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        stats = await host.drain(idle_s=float("inf"), stop=stop)
    finally:
        await runtime.aclose()
    return {"succeeded": stats.succeeded, "failed": stats.failed, "poisoned": stats.poisoned}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale_worker")
    p.add_argument("--ready", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--clock-offset-s", type=float, default=0.0)
    p.add_argument("--queue", default=RECONCILE_QUEUE, help="the reconcile queue (poison: <queue>-poison)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--new-batch-threshold", type=int)
    args = p.parse_args(argv)
    started = time.perf_counter()
    import function_app  # noqa: F401  (what a new instance pays before its first message)

    import_s = time.perf_counter() - started
    cpu_ready = cpu_seconds()
    args.ready.write_text("ready")
    counts = asyncio.run(serve(args.batch_size, args.new_batch_threshold, args.clock_offset_s, args.queue))
    args.out.write_text(json.dumps({
        "cpu_s": round(cpu_seconds() - cpu_ready, 3), "import_s": round(import_s, 3),
        "peak_rss_mb": peak_rss_mb(), **counts,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
