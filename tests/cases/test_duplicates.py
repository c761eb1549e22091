"""The search for likely duplicates stays on the map box as open cases pile up."""

from sqlalchemy import event, insert, select

from gridgov.cases import intake
from gridgov.cases.models import Case
from tests.cases.flow import placed


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
