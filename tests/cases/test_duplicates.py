"""The search for likely duplicates stays on the map box as open cases pile up, and ranks what it finds."""

import math
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, select

from gridgov.cases import intake
from gridgov.cases.models import Case
from tests.cases.flow import EXPOSED_GARBAGE, ILLEGAL_STRUCTURE, placed


def test_the_duplicate_search_walks_the_map_box_not_every_open_case_of_the_week(world, world_settings, frozen):
    """Among thousands of open cases the search for likely duplicates reads the (lat, lng) index;
    on SQLite without statistics the planner would otherwise walk every open case of the week."""
    with world.write() as db:
        intake.write(db, settings=world_settings, reports=[placed(world, f"D-{i}") for i in range(3)])
        db.commit()
    with world.write() as db:
        template = {c.key: getattr(db.scalars(select(Case)).first(), c.key)
                    for c in Case.__table__.columns if c.key != "id"}
        db.execute(insert(Case.__table__), [
            template | {"number": f"X{i}", "tracking_code": f"X{i:09d}", "channel_ref": f"X-{i}",
                        "lat": 39.88 + (i % 97) * 0.0007, "lng": 116.38 + (i % 89) * 0.0007} for i in range(3000)])
        db.commit()
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "lat BETWEEN" in statement:
            statements.append((statement, parameters))

    event.listen(world.engine, "before_cursor_execute", capture)
    try:
        with world.read() as db:
            case = db.scalars(select(Case).where(Case.channel_ref == "D-0")).one()
            assert [d.number for d in intake.likely_duplicates(db, case=case)]  # D-1 and D-2, same place
    finally:
        event.remove(world.engine, "before_cursor_execute", capture)
    [(statement, parameters)] = statements
    with world.engine.connect() as conn:
        if world.dialect == "sqlite":
            plan = " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
        else:
            conn.exec_driver_sql("ANALYZE cases")
            plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
    assert "ix_cases_lat_lng" in plan, plan


def test_duplicates_found_together_are_those_each_case_finds_alone(world, world_settings, frozen):
    """One query serves many cases (padded to a power of two with probes matching nothing):
    each case gets what its own search would give, typed or not, wherever it lies."""
    with world.write() as db:
        written = intake.write(db, settings=world_settings, reports=[placed(world, f"T-{i}") for i in range(6)])
        db.commit()
    with world.write() as db:
        first, second, _, afar, *_ = (db.get(Case, w.case_id) for w in written)
        first.type_code, first.domain = ILLEGAL_STRUCTURE, "市容环境"
        second.type_code, second.domain = EXPOSED_GARBAGE, "宣传广告"  # neither's type nor domain
        afar.lat, afar.lng = afar.lat + 0.01, afar.lng + 0.01  # ~1.4 km away: no neighbours
        db.commit()
    with world.read() as db:
        cases = [db.get(Case, w.case_id) for w in written][:5]  # five: padded to eight probes
        together = intake.likely_duplicates_each(db, cases=cases)
        alone = [intake.likely_duplicates(db, case=case) for case in cases]
    assert together == alone
    assert [len(found) for found in together] == [3, 3, 4, 0, 4]


def test_duplicates_are_the_same_type_first_then_the_nearest_then_the_newest_within_the_radius(
        world, world_settings, frozen):
    metres = 1 / 111_320  # a metre north, in degrees of latitude
    with world.write() as db:
        written = intake.write(db, settings=world_settings, reports=[placed(world, f"R-{i}") for i in range(10)])
        db.commit()
    with world.write() as db:
        probe, same_far, other_near, same_older, same_newer, beyond_radius, closed, stale, unrelated, untyped = (
            db.get(Case, w.case_id) for w in written)
        east = 1 / (111_320 * math.cos(math.radians(probe.lat)))  # a metre east, in degrees of longitude
        for found, type_code, domain, north, east_m in (
                (probe, ILLEGAL_STRUCTURE, "市容环境", 0, 0), (same_far, ILLEGAL_STRUCTURE, "市容环境", 100, 0),
                (other_near, EXPOSED_GARBAGE, "市容环境", 20, 0), (same_older, ILLEGAL_STRUCTURE, "市容环境", 50, 0),
                (same_newer, ILLEGAL_STRUCTURE, "市容环境", -50, 0),
                (beyond_radius, ILLEGAL_STRUCTURE, "市容环境", 120, 120),  # in the box, 170 m away
                (closed, ILLEGAL_STRUCTURE, "市容环境", 10, 0), (stale, ILLEGAL_STRUCTURE, "市容环境", 10, 0),
                (unrelated, EXPOSED_GARBAGE, "宣传广告", 10, 0), (untyped, None, None, 0, 30)):
            found.type_code, found.domain = type_code, domain
            found.lat, found.lng = probe.lat + north * metres, probe.lng + east_m * east
        closed.status = "closed"
        stale.reported_at = probe.reported_at - timedelta(days=8)
        db.commit()
    with world.read() as db:
        found = intake.likely_duplicates(db, case=db.get(Case, probe.id), limit=10)
    assert [d.id for d in found] == [same_newer.id, same_older.id, same_far.id, other_near.id, untyped.id]
    assert [d.distance_m for d in found] == pytest.approx([50, 50, 100, 20, 30], abs=0.01)
