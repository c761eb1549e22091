"""A throw-away gridgov database with the Dongcheng demo loaded, for benchmarks.

SQLite: a file in a temporary directory. PostgreSQL: a fresh database on 127.0.0.1:5432
(GRIDGOV_BENCH_PG_URL to override), dropped afterwards.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import psycopg

from gridgov.config import Settings
from gridgov.db import Database

GRIDGOV = str(Path(sys.executable).with_name("gridgov"))
PG_SERVER_URL = os.environ.get("GRIDGOV_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def bench_env(data_dir: str, database_url: str | None = None, *, fast_hashing: bool = True) -> dict[str, str]:
    """The caller's environment without GRIDGOV_ settings, pointed at data_dir (and a database)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRIDGOV_")}
    env |= {"GRIDGOV_DATA_DIR": data_dir, "GRIDGOV_LOG_LEVEL": "WARNING"}
    if fast_hashing:
        env["GRIDGOV_PASSWORD_HASH_PROFILE"] = "fast-for-tests"
    if database_url:
        env["GRIDGOV_DATABASE_URL"] = database_url
    return env


def open_world(env: dict[str, str]) -> tuple[Settings, Database]:
    """The settings and database of the world `env` points at, for measuring in-process."""
    settings = Settings(database_url=env.get("GRIDGOV_DATABASE_URL"), data_dir=Path(env["GRIDGOV_DATA_DIR"]))
    return settings, Database(settings.resolved_database_url)


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_SERVER_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def demo_world(data_dir: str, backend: str) -> Iterator[dict[str, str]]:
    """Environment variables pointing gridgov at a migrated database with the demo loaded."""
    name = None
    url = None
    if backend == "postgresql":
        name = f"gridgov_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
        base = PG_SERVER_URL.rpartition("/")[0].replace("postgresql://", "postgresql+psycopg://", 1)
        url = f"{base}/{name}"
    env = bench_env(data_dir, url)
    try:
        for command in (["db", "upgrade"], ["demo", "load", "--no-history"]):
            subprocess.run([GRIDGOV, *command], env=env, check=True, capture_output=True)
        yield env
    finally:
        if name:
            with psycopg.connect(PG_SERVER_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], *, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    server = subprocess.Popen([GRIDGOV, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return server, f"http://127.0.0.1:{port}"


def wait_healthy(base: str, started: float) -> float:
    """Seconds from `started` until /healthz answers (30 s at most)."""
    deadline = started + 30
    while time.perf_counter() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.02)
    raise RuntimeError("gridgov serve did not become healthy within 30 s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def on_every_backend(measure: Callable[[dict[str, str], str], list]) -> list:
    """`measure(env, backend)` in a fresh demo world of SQLite, then of PostgreSQL when it answers."""
    figures = []
    for backend in ["sqlite"] + (["postgresql"] if pg_available() else []):
        with tempfile.TemporaryDirectory() as data_dir, demo_world(data_dir, backend) as env:
            figures += measure(env, backend)
    return figures
