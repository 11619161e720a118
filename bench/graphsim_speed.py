"""How fast is graphsim? Simple GETs per second against the real server (a separate process, faults
off, several requests in flight), and the memory and time to hold 50,000 service principals.

Run: .venv/bin/python bench/graphsim_speed.py [--seconds 5] [--concurrency 16] [--apps 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphsim.tenants import load
from graphsim.testing import free_port, mint_token

# The reads below are authorized as Graph would: a token holding a permission the list and get accept.
BENCH_TOKEN = mint_token(["Application.Read.All"], client="graphsim speed bench")


def measure_state(apps: int) -> dict[str, float]:
    """Time and traced memory to build a tenant of `apps` service principals."""
    tracemalloc.start()
    started = time.perf_counter()
    tenant = load(f"generate:{apps}")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(tenant.service_principals) == apps
    return {
        "apps": apps,
        "load_seconds": round(elapsed, 2),
        "memory_mb": round(current / 2**20, 1),
        "peak_mb": round(peak / 2**20, 1),
    }


async def _connection(port: int, paths: list[str], deadline: float, counts: list[int]) -> None:
    """One keep-alive HTTP/1.1 connection sending GETs back to back (a lean client: httpx itself
    tops out near a few hundred requests per second here, so it would measure the client)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    while time.perf_counter() < deadline:
        path = paths[i % len(paths)]
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {BENCH_TOKEN}\r\n\r\n"
        writer.write(request.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        counts[0 if status == 200 else 1] += 1
        i += 1
    writer.close()


async def measure_gets(port: int, seconds: float, concurrency: int) -> dict[str, float]:
    """Simple GETs per second with `concurrency` keep-alive connections in flight."""
    base = f"http://127.0.0.1:{port}/v1.0"
    headers = {"Authorization": f"Bearer {BENCH_TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        listed = (await client.get("/servicePrincipals?$top=50&$select=id")).json()["value"]
    paths = [f"/v1.0/servicePrincipals/{sp['id']}" for sp in listed]
    counts = [0, 0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_connection(port, paths, deadline, counts) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "requests": counts[0],
        "errors": counts[1],
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "gets_per_second": round(counts[0] / elapsed),
    }


def main() -> None:
    """Start the server in its own process, measure, print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--apps", type=int, default=50000)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "graphsim", "--port", str(port), "--tenant", f"generate:{args.apps}"]
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/_sim/clock", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        result = {
            "gets": asyncio.run(measure_gets(port, args.seconds, args.concurrency)),
            "state": measure_state(args.apps),
        }
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
