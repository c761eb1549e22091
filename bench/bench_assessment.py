"""Assessment and analysis over a year of data: 600,000 cases and ≈4,000,000 case events
(with their clocks, assignments and callbacks), bulk-loaded; then the monthly assessment of
every unit, a drill-down, hot spots over the year, trends by month with year-on-year and the
forced-closure ledger — on SQLite and on PostgreSQL."""

import random
import sqlite3
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from demo_world import on_every_backend, open_world
from figures import Figure
from gridgov.analytics import hotspots, ledgers
from gridgov.analytics import service as analytics
from gridgov.analytics.rules import Dimension, Granularity
from gridgov.assessment import service as assessment
from gridgov.assessment.rules import Month
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.db import Database
from gridgov.grid import service as grid
from gridgov.grid.rules import GridLevel
from gridgov.org.models import Unit

CASES = 600_000
FIRST_ID = 10_000_000
EVENT_COLUMNS = ("case_id", "transition", "from_status", "to_status", "actor_name", "unit_id", "target_unit_id",
                 "reason", "payload", "occurred_at")
CLOCK_COLUMNS = ("case_id", "node", "unit_id", "limit_value", "limit_unit", "started_at", "deadline_at",
                 "finished_at", "overdue", "extended")
CASE_COLUMNS = ("id", "number", "tracking_code", "channel_code", "channel_ref", "reported_at", "created_at",
                "description", "lng", "lat", "unit_grid_code", "basic_grid_code", "grid_version", "community_id",
                "street_id", "type_code", "domain", "grade", "urgent", "handling_limit_value",
                "handling_limit_unit", "status", "supervised", "holder_unit_id", "responsible_unit_id",
                "closed_at", "close_kind", "dispatch_count", "return_count", "rework_count", "version")
ASSIGNMENT_COLUMNS = ("case_id", "unit_id", "depth", "assigned_at", "ended_at", "end_reason")
REPORTER_COLUMNS = ("id", "case_id", "original_case_id", "channel_code", "channel_ref", "phone", "reported_at")
CALLBACK_COLUMNS = ("case_id", "reporter_id", "sampled_as", "called_at", "recorded_at", "caller_name", "reached",
                    "resolved", "satisfaction")
TYPES = ("E010101", "E010201", "E020101", "C050301")


def _generate(db, now: datetime) -> dict[str, list[tuple]]:
    """A year of cases ending now: most closed normally, some returned and re-dispatched,
    reworked, force-closed or still open; grids drawn with a skew so that hot spots exist."""
    rng = random.Random(7)
    units = db.execute(select(Unit.id, Unit.kind, Unit.code)).all()
    by_code = {code: uid for uid, _, code in units}
    handlers = [uid for uid, kind, _ in units if kind in ("department", "field_unit", "street", "section")]
    cells = [c.code for c in grid.list_cells(db, level=GridLevel.UNIT)]
    grid_weights = [rng.paretovariate(1.5) for _ in cells]
    chosen = rng.choices(cells, weights=grid_weights, k=CASES)
    # Cases arrive in time order, as in a running system: ids and rows follow the report time.
    offsets = sorted((rng.randrange(365 * 86400) for _ in range(CASES)), reverse=True)
    rows = {k: [] for k in ("cases", "events", "clocks", "assignments", "reporters", "callbacks")}
    ev, ck, asg = rows["events"].append, rows["clocks"].append, rows["assignments"].append
    for i in range(CASES):
        cid = FIRST_ID + i
        code = chosen[i]
        t0 = now - timedelta(seconds=offsets[i])
        hotline = rng.random() < 0.35
        unit = rng.choice(handlers)
        fate = rng.random()
        dispatched = t0 + timedelta(minutes=10)
        ev((cid, "report", None, "reported", "bench", None, None, None, "{}", t0))
        ev((cid, "file", "reported", "filed", "bench", None, None, None, "{}", t0 + timedelta(minutes=5)))
        returns = 0
        if fate < 0.05:  # returned, then dispatched to another unit
            wrong = rng.choice(handlers)
            back = dispatched + timedelta(hours=1)
            asg((cid, wrong, 1, dispatched, back, "returned"))
            ev((cid, "dispatch", "filed", "dispatched", "bench", None, wrong, None, "{}", dispatched))
            ev((cid, "return_to_district", "dispatched", "returned", "bench", wrong, None, "非本单位职责", "{}", back))
            ck((cid, "handling", wrong, 2, "working_days", dispatched, dispatched + timedelta(days=2), back, False,
                False))
            dispatched, returns = back + timedelta(minutes=10), 1
        deadline = dispatched + timedelta(days=2)
        received = dispatched + timedelta(minutes=rng.choice((20, 40, 90)))
        ev((cid, "dispatch", "filed", "dispatched", "bench", None, unit, None, "{}", dispatched))
        ev((cid, "receive", "dispatched", "received", "bench", unit, None, None, "{}", received))
        ck((cid, "receipt", unit, 1, "working_hours", dispatched, dispatched + timedelta(hours=1), received,
            received > dispatched + timedelta(hours=1), False))
        still_open = fate > 0.96 and t0 > now - timedelta(days=60)
        handled = dispatched + timedelta(hours=rng.uniform(1, 60))
        status, closed_at, close_kind, holder, ended, reason = "closed", None, None, None, None, None
        if still_open or handled > now:
            status, holder = "received", unit
            ck((cid, "handling", unit, 2, "working_days", dispatched, deadline, None, None, fate > 0.99))
        else:
            ev((cid, "report_result", "received", "handled", "bench", unit, None, None, "{}", handled))
            ck((cid, "handling", unit, 2, "working_days", dispatched, deadline, handled, handled > deadline,
                fate > 0.99))
            if 0.90 < fate < 0.92:  # reworked once
                again = handled + timedelta(hours=2)
                ev((cid, "rework", "handled", "received", "bench", None, None, "现场仍未整改", "{}", again))
                handled = again + timedelta(hours=rng.uniform(1, 20))
                ev((cid, "report_result", "received", "handled", "bench", unit, None, None, "{}", handled))
                ck((cid, "handling", unit, 2, "working_days", again, again + timedelta(days=2), handled,
                    handled > again + timedelta(days=2), False))
            verified, closed_at = handled + timedelta(hours=1), handled + timedelta(hours=2)
            ev((cid, "verify", "handled", "verified", "bench", None, None, "核查通过", "{}", verified))
            forced = 0.92 < fate < 0.95
            close_kind = "forced" if forced else "normal"
            ev((cid, "force_close" if forced else "close", "verified", "closed", "bench", None, None,
                "经研判强制结案" if forced else None, "{}", closed_at))
            ended, reason = closed_at, close_kind
        asg((cid, unit, 1, dispatched, ended, reason))
        rows["cases"].append((
            cid, f"B{i:010d}", f"T{i:09d}", "hotline_12345" if hotline else "wechat", f"B-{i}", t0, t0, "基准",
            116.4, 39.9, code, code[:14], 1, by_code[code[:12]], by_code[code[:9]], TYPES[i % 4], "urban", "L2",
            False, 2, "working_days", status, False, holder, unit, closed_at, close_kind, 1 + returns, returns,
            int(0.90 < fate < 0.92), 1))
        if hotline and closed_at is not None and rng.random() < 0.5:
            rows["reporters"].append((cid, cid, cid, "hotline_12345", f"B-{i}", "13800000000", t0))
            reached = rng.random() < 0.85
            rows["callbacks"].append((cid, cid, "hotline", closed_at + timedelta(days=1), closed_at + timedelta(days=1),
                                      "bench", reached, (rng.random() < 0.9) if reached else None,
                                      rng.choice(("satisfied", "basic", "unsatisfied")) if reached else None))
    return rows


def _sqlite_text(value: datetime) -> str:
    """How gridgov.db.UTCDateTime stores an instant on SQLite (every instant here is in UTC)."""
    return value.isoformat(" ", "microseconds")[:26]


TABLES = (("cases", CASE_COLUMNS), ("case_events", EVENT_COLUMNS), ("case_clocks", CLOCK_COLUMNS),
          ("case_assignments", ASSIGNMENT_COLUMNS), ("case_reporters", REPORTER_COLUMNS),
          ("case_callbacks", CALLBACK_COLUMNS))
KEYS = {"cases": "cases", "case_events": "events", "case_clocks": "clocks", "case_assignments": "assignments",
        "case_reporters": "reporters", "case_callbacks": "callbacks"}


def _load(database: Database, rows: dict[str, list[tuple]]) -> None:
    if database.dialect == "sqlite":
        sqlite3.register_adapter(datetime, _sqlite_text)
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        # Bulk loads go faster into bare tables: secondary indexes are rebuilt afterwards (and on
        # PostgreSQL the foreign-key triggers are off for the load: the rows are made consistent).
        names = ", ".join(f"'{table}'" for table, _ in TABLES)
        if database.dialect == "sqlite":
            cursor.execute("BEGIN")  # the engine's connections run in autocommit mode
            indexes = cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                     f"AND tbl_name IN ({names})").fetchall()
        else:
            cursor.execute("SET session_replication_role = replica")
            indexes = cursor.execute(f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ({names}) "
                                     "AND indexdef NOT LIKE 'CREATE UNIQUE%'").fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        for table, columns in TABLES:
            data = rows[KEYS[table]]
            if database.dialect == "sqlite":
                placeholders = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", data)
            else:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
        for _, sql in indexes:
            cursor.execute(sql)
        if database.dialect == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _median(fn, runs: int = 5) -> float:
    fn()  # warm: caches, the statistic's first import
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - t0)
    return statistics.median(timings)


def _backend(env: dict[str, str], backend: str) -> list[Figure]:
    settings, database = open_world(env)
    now = datetime.now(UTC)
    with database.read() as db:
        rows = _generate(db, now)
        leader = auth.principal_for(db, db.scalar(select(User).where(User.username == "leader")))
    t0 = time.perf_counter()
    _load(database, rows)
    load_s = time.perf_counter() - t0
    events = len(rows["events"])
    del rows
    local_today = now.astimezone(settings.tz).date()
    month = Month(local_today.year, local_today.month).previous()
    year_ago = local_today - timedelta(days=364)
    with database.read() as db:
        monthly = _median(lambda: assessment.compute(db, settings=settings, month=month))
        result = assessment.compute(db, settings=settings, month=month)
        biggest = max(result.units, key=lambda u: u.figures["cases_due"].numerator)
        drill = _median(lambda: assessment.drilldown(
            db, settings=settings, principal=leader, month_text=str(month), unit_code=biggest.code,
            indicator="on_time_closure_rate", part="denominator"), runs=3)
        hot = _median(lambda: hotspots.hot_spots(db, settings=settings, principal=leader, start=year_ago,
                                                 end=local_today), runs=3)
        spots = hotspots.hot_spots(db, settings=settings, principal=leader, start=year_ago, end=local_today)
        trend = _median(lambda: analytics.trends(
            db, settings=settings, principal=leader, start=date(local_today.year, 1, 1), end=local_today,
            granularity=Granularity.MONTH, dimension=Dimension.STREET), runs=3)
        forced = _median(lambda: ledgers.forced_closures(db, settings=settings, principal=leader, start=year_ago,
                                                         end=local_today), runs=3)
    database.dispose()
    assert biggest.figures["cases_due"].numerator > 0 and spots.hot
    return [
        Figure(f"assessment.load_year_{backend}", load_s, "s", f"{CASES:,} cases, {events:,} events", True),
        Figure(f"assessment.month_all_units_{backend}", monthly * 1000, "ms", "< 1000 ms", monthly < 1),
        Figure(f"assessment.drilldown_{backend}", drill * 1000, "ms", "< 1000 ms", drill < 1),
        Figure(f"analytics.hotspots_year_{backend}", hot * 1000, "ms", "< 2000 ms", hot < 2),
        Figure(f"analytics.trends_month_yoy_{backend}", trend * 1000, "ms", "< 2000 ms", trend < 2),
        Figure(f"analytics.ledger_forced_year_{backend}", forced * 1000, "ms", "< 2000 ms", forced < 2),
    ]


def main() -> list[Figure]:
    return on_every_backend(_backend)


if __name__ == "__main__":
    for figure in main():
        print(figure.line())
