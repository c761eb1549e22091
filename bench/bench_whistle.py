"""Whistle figures (一哨一考): the per-department assessment over 10,000 whistles (~25,000
summons) of one month, the per-street figures, the combined scores and one drill-down — on
SQLite and on PostgreSQL — and whole whistle flows through the service layer."""

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from demo_world import on_every_backend, open_world
from figures import Figure
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.db import Database
from gridgov.org.models import Unit
from gridgov.whistle import assessment, service
from gridgov.whistle.models import Whistle, WhistleSituation, WhistleSummons
from gridgov.whistle.rules import RATING_POINTS, responsiveness
from gridgov.whistle.schemas import DepartmentIn, RatingIn, WhistleStartIn, WhistleTransitionIn

WHISTLES = 10_000
FLOWS = 100
MONTH_START = datetime(2026, 11, 1, tzinfo=UTC)
ID_OFFSET = 1_000_000  # seeded rows stay clear of the ids the flows take
# Every row of one bulk insert carries the same keys.
EMPTY_SUMMONS = {key: None for key in ("reported_in_at", "lateness", "responsiveness", "assessment", "rated_at",
                                       *(f"rating_{p}" for p in RATING_POINTS))}


def _seed(database: Database) -> None:
    """10,000 whistles in November 2026: 70 % closed, 10 % cancelled, 20 % still open, each
    with 1–4 summons to departments, field units or utilities, scored as the service would."""
    rng = random.Random(7)
    with database.write() as db:
        units = list(db.scalars(select(Unit.id).where(Unit.kind.in_(("department", "field_unit", "outside_body")))))
        streets = list(db.scalars(select(Unit.id).where(Unit.kind == "street")))
        communities = {s: db.scalar(select(Unit.id).where(Unit.parent_id == s, Unit.kind == "community").limit(1))
                       for s in streets}
        situations = list(db.execute(select(WhistleSituation.id, WhistleSituation.code, WhistleSituation.name,
                                            WhistleSituation.area)))
        whistles, summonses = [], []
        summons_id = ID_OFFSET
        for i in range(ID_OFFSET, ID_OFFSET + WHISTLES):
            started = MONTH_START + timedelta(minutes=rng.randrange(29 * 24 * 60))
            street = rng.choice(streets)
            situation = rng.choice(situations)
            roll = rng.random()
            status = "closed" if roll < 0.7 else "cancelled" if roll < 0.8 else "summoned"
            whistles.append({
                "id": i, "number": f"B{i:09d}", "status": status, "street_id": street,
                "community_id": communities[street], "started_by_unit_id": street, "situation_id": situation.id,
                "situation_code": situation.code, "situation_name": situation.name, "area": situation.area,
                "limit_value": "2", "limit_unit": "natural_hours", "urgency": "normal", "title": "基准吹哨",
                "description": "基准", "lng": 116.4, "lat": 39.9, "unit_grid_code": "110101001001001",
                "started_at": started, "summoned_at": started + timedelta(minutes=10), "updated_at": started,
                "closed_at": started + timedelta(days=1) if status == "closed" else None, "version": 1})
            for unit in rng.sample(units, rng.randint(1, 4)):
                summons_id += 1
                sent = started + timedelta(minutes=10)
                due, cutoff = sent + timedelta(hours=2), sent + timedelta(hours=6)
                row = {**EMPTY_SUMMONS, "id": summons_id, "whistle_id": i, "unit_id": unit, "task": "到场处置",
                       "added_by": "start", "created_at": started, "sent_at": sent, "report_in_due_at": due,
                       "cutoff_at": cutoff, "version": 1}
                came = rng.random() < 0.9
                if came:
                    lateness = Decimal(rng.choice((-1, -0.5, 0, 0.25, 0.5, 1, 3)))
                    row |= {"reported_in_at": due + timedelta(hours=float(lateness)), "lateness": lateness,
                            "responsiveness": responsiveness(lateness, Decimal(2)),
                            "assessment": "on_time" if lateness <= 0 else "late",
                            "status": "done" if status != "summoned" else rng.choice(("reported_in", "done"))}
                    if status == "closed":
                        row |= {f"rating_{p}": rng.randint(1, 5) for p in RATING_POINTS}
                        row["rated_at"] = started + timedelta(hours=20)
                elif status == "summoned":
                    row["status"] = "sent"
                else:
                    row |= {"status": "missed", "assessment": "missed", "responsiveness": Decimal(0)}
                summonses.append(row)
        db.execute(insert(Whistle.__table__), whistles)
        db.execute(insert(WhistleSummons.__table__), summonses)
        db.commit()


def _median_ms(run: Callable[[], object], times: int = 15) -> float:
    run()  # warm the caches once, as a running server has them
    timings = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def _figures(env: dict[str, str], backend: str) -> list[Figure]:
    _, database = open_world(env)
    _seed(database)
    start, end = MONTH_START, MONTH_START + timedelta(days=30)
    now = end
    with database.read() as db:
        departments = _median_ms(lambda: assessment.unit_figures(db, role="department", start=start, end=end, now=now))
        streets = _median_ms(lambda: assessment.unit_figures(db, role="street", start=start, end=end, now=now))
        scores = _median_ms(lambda: assessment.whistle_scores(db, start=start, end=end, now=now))
        drill = _median_ms(lambda: assessment.drill_down(db, unit_code="D012", figure="late", start=start, end=end,
                                                         now=now))
        assert len(assessment.unit_figures(db, role="department", start=start, end=end, now=now)) > 40
    database.dispose()
    return [
        Figure(f"whistle.department_figures_10k_{backend}", departments, "ms", "< 200 ms", departments < 200),
        Figure(f"whistle.street_figures_10k_{backend}", streets, "ms", "< 200 ms", streets < 200),
        Figure(f"whistle.scores_10k_{backend}", scores, "ms", "< 400 ms", scores < 400),
        Figure(f"whistle.drill_down_10k_{backend}", drill, "ms", "< 100 ms", drill < 100),
    ]


def _flows(env: dict[str, str], backend: str) -> Figure:
    """Whole whistles through the service: start, summon, two report-ins and results, outcome
    with ratings, close — eight transactions each."""
    settings, database = open_world(env)
    with database.read() as db:
        principals = {u.username: auth.principal_for(db, u) for u in db.scalars(select(User))}
    start_in = WhistleStartIn(situation_code="YJ03", title="树木倒伏", description="大风导致树木倒伏压住线路",
                              lng=116.4035, lat=39.9135,
                              departments=[DepartmentIn(unit_code="D001", task="到场"),
                                           DepartmentIn(unit_code="D002", task="到场")])
    arrive = {"place": "现场", "leader": "带队", "headcount": 3}

    def move(username: str, whistle_id: int, name: str, **fields) -> Whistle:
        with database.write() as db:
            return service.transition(db, settings=settings, principal=principals[username], whistle_id=whistle_id,
                                      name=name, data=WhistleTransitionIn(**fields))

    started = time.perf_counter()
    for _ in range(FLOWS):
        with database.write() as db:
            whistle = service.start_whistle(db, settings=settings, principal=principals["street"], data=start_in)
            whistle_id, version = whistle.id, whistle.version
        whistle = move("dispatcher", whistle_id, "summon", version=version)
        summons = {s.unit_id: (s.id, s.version) for s in whistle.summons}
        for username, (summons_id, summons_version) in zip(("department", "fieldunit"), summons.values(),
                                                           strict=True):
            moved = move(username, whistle_id, "report_in", version=summons_version, summons_id=summons_id, **arrive)
            version = next(s.version for s in moved.summons if s.id == summons_id)
            whistle = move(username, whistle_id, "finish_part", version=version, summons_id=summons_id, result="完成")
        ratings = [RatingIn(summons_id=i, efficiency=5, cooperation=5, professionalism=4, responsibility=5)
                   for i, _ in summons.values()]
        whistle = move("street", whistle_id, "report_outcome", version=whistle.version, outcome="已处置",
                       ratings=ratings)
        move("dispatcher", whistle_id, "close", version=whistle.version, note="核查通过")
    rate = FLOWS / (time.perf_counter() - started)
    database.dispose()
    return Figure(f"whistle.flows_{backend}", rate, "per s", ">= 10 per s", rate >= 10)


def main() -> list[Figure]:
    return on_every_backend(lambda env, backend: [_flows(env, backend), *_figures(env, backend)])


if __name__ == "__main__":
    for figure in main():
        print(figure.line())
