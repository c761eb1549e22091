"""Load generator for the intake bench, run as its own process so it does not share the
server's CPU time slices inside one interpreter: POSTs N reports at a fixed concurrency and
prints {"throughput": reports/s, "p50_ms": …, "p99_ms": …, "errors": …} as JSON. A warm-up of
WARMUP reports goes first, unmeasured, as wrk's does: a server process builds its grid index
and fills its pools on its first requests, once in its life, not once per report.

Like wrk, each client is one keep-alive HTTP/1.1 connection written and read with plain
asyncio streams: a general-purpose client library costs several milliseconds of CPU per
request, which on a 2-core machine would be taken from the server being measured."""

import asyncio
import json
import random
import statistics
import sys
import time
from urllib.parse import urlsplit

from gridgov.grid.generate import demo_grid
from gridgov.grid.rules import GridLevel


def _request(host: str, token: str, body: dict) -> bytes:
    content = json.dumps(body, ensure_ascii=False).encode()
    head = (f"POST /api/v1/cases HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n")
    return head.encode() + content


async def _response_status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return int(lines[0].split(" ", 2)[1])


WARMUP = 200


async def main(base: str, token: str, total: int, concurrency: int, run: str) -> dict:
    await _load(base, token, WARMUP, concurrency, f"{run}-warmup")
    return await _load(base, token, total, concurrency, run)


async def _load(base: str, token: str, total: int, concurrency: int, run: str) -> dict:
    rng = random.Random(7)
    points = [cell.polygon.representative_point() for cell in demo_grid() if cell.level is GridLevel.UNIT]
    url = urlsplit(base)
    requests = [_request(url.netloc, token, {
        "channel": "hotline_12345", "channel_ref": f"{run}-{i}", "description": "压测：道路不洁",
        "lng": point.x, "lat": point.y, "reporter_name": "压测", "reporter_phone": "13800000000"})
        for i, point in enumerate(rng.choice(points) for _ in range(total))]
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        try:
            while requests:
                request = requests.pop()
                t0 = time.perf_counter()
                writer.write(request)
                status = await _response_status(reader)
                latencies.append(time.perf_counter() - t0)
                errors += status != 201
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"throughput": total / elapsed, "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000, "errors": errors}


if __name__ == "__main__":
    base, token, total, concurrency, run = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    print(json.dumps(asyncio.run(main(base, token, total, concurrency, run))))
