"""Start-up time of `gridgov serve` and a sign-in round trip, on SQLite with the demo loaded."""

import statistics
import subprocess
import tempfile
import time

import httpx2 as httpx

from demo_world import GRIDGOV, bench_env, start_server, stop_server, wait_healthy
from figures import Figure


def main() -> list[Figure]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = bench_env(data_dir, fast_hashing=False)  # the real argon2 cost is part of sign-in
        for command in (["db", "upgrade"], ["demo", "load", "--no-history"]):
            subprocess.run([GRIDGOV, *command], env=env, check=True, capture_output=True)
        started = time.perf_counter()
        server, base = start_server(env)
        try:
            startup = wait_healthy(base, started)
            with httpx.Client(base_url=base) as client:
                rounds = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    response = client.post("/api/v1/auth/token",
                                           json={"username": "dispatcher", "password": "Dongcheng2026"})
                    token = response.json()["access_token"]
                    client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).raise_for_status()
                    rounds.append(time.perf_counter() - t0)
        finally:
            stop_server(server)
    sign_in_ms = statistics.median(rounds) * 1000
    return [
        Figure("foundation.serve_startup", startup, "s", "< 3 s", startup < 3),
        Figure("foundation.sign_in_round_trip_median", sign_in_ms, "ms", "< 300 ms", sign_in_ms < 300),
    ]


if __name__ == "__main__":
    for figure in main():
        print(figure.line())
