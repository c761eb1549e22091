"""Start-up time of `gridgov serve` and a sign-in round trip, on SQLite with the demo loaded."""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

from figures import Figure

GRIDGOV = str(Path(sys.executable).with_name("gridgov"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> list[Figure]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {key: value for key, value in os.environ.items() if not key.startswith("GRIDGOV_")}
        env |= {"GRIDGOV_DATA_DIR": data_dir, "GRIDGOV_LOG_LEVEL": "WARNING"}
        for command in (["db", "upgrade"], ["demo", "load"]):
            subprocess.run([GRIDGOV, *command], env=env, check=True, capture_output=True)
        port = _free_port()
        started = time.perf_counter()
        server = subprocess.Popen([GRIDGOV, "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            startup = _wait_healthy(base, started)
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
            server.terminate()
            server.wait(timeout=10)
    sign_in_ms = statistics.median(rounds) * 1000
    return [
        Figure("foundation.serve_startup", startup, "s", "< 3 s", startup < 3),
        Figure("foundation.sign_in_round_trip_median", sign_in_ms, "ms", "< 300 ms", sign_in_ms < 300),
    ]


def _wait_healthy(base: str, started: float) -> float:
    deadline = started + 30
    while time.perf_counter() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.02)
    raise RuntimeError("gridgov serve did not become healthy within 30 s")


if __name__ == "__main__":
    for figure in main():
        print(figure.line())
