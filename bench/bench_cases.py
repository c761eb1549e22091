"""Case lifecycle figures: intake through HTTP, whole L2 lifecycles through the service layer,
and "what is overdue now" over 600,000 cases — on SQLite and on PostgreSQL."""

import json
import multiprocessing
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import insert, select

from demo_world import on_every_backend, open_world, start_server, stop_server, wait_healthy
from figures import Figure
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.cases import intake, queries, service
from gridgov.cases.models import Case, CaseClock
from gridgov.cases.schemas import ReportIn, TransitionFields
from gridgov.db import Database
from gridgov.grid import service as grid
from gridgov.org.models import Unit
from gridgov.serving import freeze_long_lived

HERE = Path(__file__).parent
INTAKE_REPORTS = 3000
INTAKE_CONCURRENCY = 32
WRITE_BATCH = 50  # what the group-commit writer takes at once under load (up to 128)
LIFECYCLES_ONE_BY_ONE = 200
LIFECYCLES_BATCHED = 3000
LIFECYCLE_BATCH = 100
OVERDUE_CASES = 600_000


def _processes(backend: str) -> int:
    """Writer processes for lifecycles on each backend: SQLite writes one transaction at a time,
    PostgreSQL takes writers side by side (one per core here)."""
    return 1 if backend == "sqlite" else 2


# Server processes for the intake bench, one per core on both backends: a report's work is done
# by its process's writer thread in batches, and a batch holds SQLite's write lock only for
# its write, so two processes overlap everything else.
INTAKE_WORKERS = 2


def _intake_http(env: dict[str, str], backend: str) -> list[Figure]:
    server, base = start_server(env, workers=INTAKE_WORKERS)
    try:
        wait_healthy(base, time.perf_counter())
        token = httpx.post(f"{base}/api/v1/auth/token",
                           json={"username": "intake", "password": "Dongcheng2026"}).json()["access_token"]
        load = subprocess.run(
            [sys.executable, str(HERE / "intake_load.py"), base, token, str(INTAKE_REPORTS),
             str(INTAKE_CONCURRENCY), backend], capture_output=True, text=True, check=True)
        result = json.loads(load.stdout)
    finally:
        stop_server(server)
    ok_errors = result["errors"] == 0
    return [
        Figure(f"cases.intake_http_{backend}", result["throughput"], "cases/s", ">= 1000 cases/s",
               result["throughput"] >= 1000 and ok_errors),
        Figure(f"cases.intake_http_{backend}_p99", result["p99_ms"], "ms", "< 100 ms", result["p99_ms"] < 100),
    ]


def _intake_write_path(env: dict[str, str], backend: str) -> Figure:
    """Reports placed and written in batches through the service layer, as the group-commit
    writer does under load: what the write path sustains without HTTP in front of it (the
    HTTP target can be reached only if this one is)."""
    settings, database = open_world(env)
    rng = random.Random(5)
    with database.read() as db:
        actor = auth.actor_for(db.scalar(select(User).where(User.username == "intake")), None)
    started = time.perf_counter()
    for batch in range(0, INTAKE_REPORTS, WRITE_BATCH):
        with database.read() as db:
            placed = intake.place_reports(db, actor=actor, reports=[ReportIn(
                channel="hotline_12345", channel_ref=f"W-{i}", description="压测：道路不洁",
                lng=116.40 + rng.random() * 0.02, lat=39.90 + rng.random() * 0.02)
                for i in range(batch, batch + WRITE_BATCH)])
        with database.write() as db:
            intake.write(db, settings=settings, reports=placed)
            db.commit()
    rate = INTAKE_REPORTS / (time.perf_counter() - started)
    database.dispose()
    return Figure(f"cases.intake_write_path_{backend}", rate, "cases/s", ">= 1000 cases/s", rate >= 1000)


L2_STEPS = [("intake", "file", {"type_code": "E010101"}), ("dispatcher", "dispatch", {"unit_code": "D002-01"}),
            ("fieldunit", "receive", {}), ("fieldunit", "report_result", {"result": "已处置"}),
            ("supervisor", "verify", {"note": "核查通过"}), ("dispatcher", "close", {})]


def _lifecycles(env: dict[str, str], backend: str) -> list[Figure]:
    """Whole L2 lifecycles through the service layer: one case at a time (what each click
    costs), and in batches as a unit's staff move a page of their queue at once (批量), in as
    many processes as the backend takes writers side by side."""
    one_by_one = _lifecycle_rate(env, LIFECYCLES_ONE_BY_ONE, batch=1, workers=1)
    workers = _processes(backend)
    batched = _lifecycle_rate(env, LIFECYCLES_BATCHED // workers, batch=LIFECYCLE_BATCH, workers=workers)
    return [Figure(f"cases.l2_lifecycles_{backend}", batched, "per s",
                   f">= 500 per s ({LIFECYCLE_BATCH} a batch, {workers} process{'es' if workers > 1 else ''})",
                   batched >= 500),
            Figure(f"cases.l2_lifecycles_one_by_one_{backend}", one_by_one, "per s", "(no target; each click)", True)]


def _lifecycle_rate(env: dict[str, str], count: int, *, batch: int, workers: int) -> float:
    """Lifecycles per second of `workers` processes started together, each taking `count`
    cases from report to closure, `batch` cases a transaction."""
    context = multiprocessing.get_context("fork")
    ready, spans = context.Barrier(workers), context.Queue()
    processes = [context.Process(target=_lifecycle_worker, args=(env, f"L{batch}-{w}", count, batch, ready, spans))
                 for w in range(workers)]
    for process in processes:
        process.start()
    measured = [spans.get() for _ in processes]
    for process in processes:
        process.join()
    return workers * count / (max(end for _, end in measured) - min(begin for begin, _ in measured))


def _lifecycle_worker(env: dict[str, str], prefix: str, count: int, batch: int, ready, spans) -> None:
    settings, database = open_world(env)
    with database.read() as db:
        principals = {user.username: auth.principal_for(db, user) for user in db.scalars(select(User))}
        actor = auth.actor_for(db.scalar(select(User).where(User.username == "intake")), None)
        grid.grid_snapshot(db)  # built once per process, as a running server has it
    # One batch unmeasured first, as the intake bench's warm-up: a process compiles its statements
    # and fills its caches on its first requests, once in its life, not once per case.
    _run_lifecycles(database, settings, principals, actor, f"{prefix}-warmup", batch, batch)
    freeze_long_lived()  # as a server process does once started
    ready.wait()
    began = time.monotonic()
    _run_lifecycles(database, settings, principals, actor, prefix, count, batch)
    spans.put((began, time.monotonic()))
    database.dispose()


def _run_lifecycles(database: Database, settings, principals: dict, actor, prefix: str, count: int,
                    batch: int) -> None:
    """`count` cases from report to closure along `L2_STEPS`, `batch` cases a transaction."""
    for first in range(0, count, batch):
        with database.read() as db:
            placed = intake.place_reports(db, actor=actor, reports=[ReportIn(
                channel="hotline_12345", channel_ref=f"{prefix}-{i}", description="违建",
                lng=116.4035, lat=39.9135) for i in range(first, first + batch)])
        with database.write() as db:
            versions = {w.case_id: w.rows.case["version"] for w in intake.write(db, settings=settings, reports=placed)}
            db.commit()
        for username, name, payload in L2_STEPS:
            with database.write() as db:
                moved = service.transition_many(db, settings=settings, principal=principals[username], name=name,
                                                cases=list(versions.items()), data=TransitionFields(**payload))
                versions = {case.id: case.version for case in moved}


def _overdue(env: dict[str, str], backend: str) -> Figure:
    """600,000 cases of a year, 4 % still open with a running handling clock; time the query."""
    settings, database = open_world(env)
    rng = random.Random(11)
    now = datetime.now(UTC)
    with database.write() as db:
        street, community = db.execute(select(Unit.id, Unit.id).where(Unit.code == "110101001")).one()
        community = db.scalar(select(Unit.id).where(Unit.code == "110101001001"))
        units = list(db.scalars(select(Unit.id).where(Unit.kind.in_(("department", "field_unit")))))
        batch = 20_000
        for offset in range(0, OVERDUE_CASES, batch):
            cases, clocks = [], []
            for i in range(offset, offset + batch):
                reported = now - timedelta(minutes=rng.randrange(525_600))
                still_open = rng.random() < 0.04
                unit = rng.choice(units)
                cases.append({"id": 10_000_000 + i, "number": f"B{i:010d}", "tracking_code": f"T{i:09d}",
                              "channel_code": "hotline_12345", "channel_ref": f"B-{i}", "reported_at": reported,
                              "created_at": reported, "description": "基准", "lng": 116.4, "lat": 39.9,
                              "unit_grid_code": "110101001001001", "basic_grid_code": "11010100100101",
                              "grid_version": 4, "community_id": community, "street_id": street,
                              "urgent": False, "status": "received" if still_open else "closed",
                              "supervised": False, "holder_unit_id": unit, "dispatch_count": 1,
                              "return_count": 0, "rework_count": 0, "version": 1})
                deadline = reported + timedelta(hours=rng.choice((4, 24, 72)))
                clocks.append({"case_id": 10_000_000 + i, "node": "handling", "unit_id": unit, "limit_value": 4,
                               "limit_unit": "working_hours", "started_at": reported, "deadline_at": deadline,
                               "finished_at": None if still_open else deadline - timedelta(hours=1),
                               "extended": False})
            db.execute(insert(Case), cases)
            db.execute(insert(CaseClock), clocks)
        db.commit()
    _as_autovacuum_leaves_it(database)
    with database.read() as db:
        queries.overdue_now(db)  # warm the caches once, as a running server has them
        timings = []
        for _ in range(20):
            t0 = time.perf_counter()
            rows = queries.overdue_now(db)
            timings.append(time.perf_counter() - t0)
    database.dispose()
    ms = sorted(timings)[len(timings) // 2] * 1000
    assert sum(n for _, _, n in rows) > 0
    return Figure(f"cases.overdue_now_600k_{backend}", ms, "ms", "< 50 ms", ms < 50)


def _as_autovacuum_leaves_it(database: Database) -> None:
    """A year of cases has been vacuumed and analysed many times over; a bulk load just now has
    not, and PostgreSQL would visit the heap for every index entry until it is."""
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE case_clocks" if database.dialect == "postgresql" else "ANALYZE")


def main() -> list[Figure]:
    return on_every_backend(lambda env, backend: [
        *_intake_http(env, backend), _intake_write_path(env, backend), *_lifecycles(env, backend),
        _overdue(env, backend)])


if __name__ == "__main__":
    for figure in main():
        print(figure.line())
