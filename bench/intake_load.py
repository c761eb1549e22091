"""Load generator for the intake bench, run as its own process so it does not share the
server's CPU time slices inside one interpreter: POSTs N reports at a fixed concurrency and
prints {"throughput": reports/s, "p50_ms": …, "p99_ms": …, "errors": …} as JSON."""

import asyncio
import json
import random
import statistics
import sys
import time

import httpx2 as httpx

from gridgov.grid.generate import demo_grid
from gridgov.grid.rules import GridLevel


async def main(base: str, token: str, total: int, concurrency: int, run: str) -> dict:
    rng = random.Random(7)
    points = [cell.polygon.representative_point() for cell in demo_grid() if cell.level is GridLevel.UNIT]
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            i = queue.get_nowait()
            point = rng.choice(points)
            body = {"channel": "hotline_12345", "channel_ref": f"{run}-{i}", "description": "压测：道路不洁",
                    "lng": point.x, "lat": point.y, "reporter_name": "压测", "reporter_phone": "13800000000"}
            t0 = time.perf_counter()
            response = await client.post("/api/v1/cases", json=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            errors += response.status_code != 201

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"throughput": total / elapsed, "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000, "errors": errors}


if __name__ == "__main__":
    base, token, total, concurrency, run = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    print(json.dumps(asyncio.run(main(base, token, total, concurrency, run))))
