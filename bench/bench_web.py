"""The leader's 指挥驾驶舱 over a year of data (600,000 cases, ≈4,000,000 events, bulk-loaded as in
bench_assessment): every request the page load makes — the page, the street layer, the big
numbers, the map's density, the trend, the type and channel mix, the rankings — and the hot-spot
toggle, through a real `gridgov serve`, on SQLite and on PostgreSQL.

The server runs with a maximum answer age of one second, so that during the measured rounds
every answer goes stale and is recomputed in the background while requests keep coming (the
worst case of a busy district). Each request is timed `ROUNDS` times *cold* (a case event is
written before each round: every answer's data has moved on) and `ROUNDS` times *warm*
(nothing changed since); the p95 of each must be < 300 ms. Beside them, *first* is how long the
first answer of each request took to compute: how fresh a recomputed figure can be (the
dashboard shows each answer's as-of time); it has no target of its own."""

import statistics
import time
from datetime import UTC, datetime

import httpx2 as httpx
from sqlalchemy import insert, select

from bench_assessment import FIRST_ID, _generate, _load
from demo_world import on_every_backend, open_world, start_server, stop_server, wait_healthy
from figures import Figure
from gridgov.cases.models import CaseEvent
from gridgov.db import Database
from gridgov.demo.loader import DEMO_PASSWORD

ROUNDS = 20
TARGET_MS = 300
MAX_AGE_S = 1
PERIODS = ("30d", "year")


def page_load(period: str) -> dict[str, str]:
    """What the browser asks for when a leader opens the dashboard (and toggles hot spots)."""
    granularity = "month" if period == "year" else "day"
    return {
        "page": f"/dashboard?period={period}",
        "street_layer": "/api/v1/grids/street",
        "summary": f"/dashboard/data/summary?period={period}",
        "density": f"/dashboard/data/density?period={period}&level=street",
        "trends": f"/dashboard/data/trends?period={period}&granularity={granularity}",
        "mix": f"/dashboard/data/mix?period={period}",
        "rankings": f"/dashboard/data/rankings?period={period}",
        "hotspots": f"/dashboard/data/hotspots?period={period}",
    }


def _p95(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=20, method="inclusive")[-1]


def _touch(database: Database) -> None:
    """A new case event: the case data's revision moves on, as when any case moves."""
    with database.write() as db:
        db.execute(insert(CaseEvent).values(case_id=FIRST_ID, transition="bench_touch", from_status="closed",
                                            to_status="closed", actor_name="bench", payload={},
                                            occurred_at=datetime.now(UTC)))
        db.commit()


def _measure(base: str, database: Database, requests: dict[str, str]) -> dict[str, dict[str, list[float]]]:
    timings = {name: {"first": [], "cold": [], "warm": []} for name in requests}
    with httpx.Client(base_url=base, timeout=120) as client:
        signed_in = client.post("/login", data={"username": "leader", "password": DEMO_PASSWORD})
        assert signed_in.status_code in (200, 303), signed_in.text
        for name, url in requests.items():  # first answers: computed before they are served
            t0 = time.perf_counter()
            assert client.get(url).status_code == 200, (name, url)
            timings[name]["first"].append(time.perf_counter() - t0)
        time.sleep(MAX_AGE_S)
        for kind in ("cold", "warm"):
            for _ in range(ROUNDS):
                if kind == "cold":
                    _touch(database)
                for name, url in requests.items():
                    t0 = time.perf_counter()
                    response = client.get(url)
                    timings[name][kind].append(time.perf_counter() - t0)
                    assert response.status_code == 200, (name, response.status_code)
    return timings


def _backend(env: dict[str, str], backend: str) -> list[Figure]:
    settings, database = open_world(env)
    with database.read() as db:
        rows = _generate(db, datetime.now(UTC))
    _load(database, rows)
    del rows
    with database.read() as db:
        assert db.scalar(select(CaseEvent.id).limit(1)) is not None
    server, base = start_server({**env, "GRIDGOV_DASHBOARD_MAX_AGE_SECONDS": str(MAX_AGE_S)})
    figures = []
    try:
        wait_healthy(base, time.perf_counter())
        for period in PERIODS:
            for name, kinds in _measure(base, database, page_load(period)).items():
                first_ms = kinds.pop("first")[0] * 1000
                figures.append(Figure(f"web.dashboard_{name}_{period}_first_{backend}", first_ms, "ms",
                                      "none (freshness)", True))
                for kind, timings in kinds.items():
                    ms = _p95(timings) * 1000
                    figures.append(Figure(f"web.dashboard_{name}_{period}_{kind}_p95_{backend}", ms, "ms",
                                          f"< {TARGET_MS} ms", ms < TARGET_MS))
    finally:
        stop_server(server)
        database.dispose()
    return figures


def main() -> list[Figure]:
    return on_every_backend(_backend)


if __name__ == "__main__":
    for figure in main():
        print(figure.line())
