"""/api/v1/calendar on SQLite and PostgreSQL."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from gridgov.audit.models import AuditEvent
from gridgov.auth.policy import Role
from gridgov.calendar.models import CalendarOverride, CalendarOverrideYear, CalendarRevision
from gridgov.calendar.rules import LimitUnit, TimeLimit, WorkingCalendar
from tests.calendar.calendar_2027 import OVERRIDES_2027, beijing
from tests.helpers import add_user, bearer, small_org

PROBLEM_JSON = "application/problem+json"


def _users(client, database, settings) -> tuple[dict, dict]:
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    return bearer(client, "admin1"), bearer(client, "disp")


def _enter_2027(client, admin: dict) -> None:
    for day, (working, note) in OVERRIDES_2027.items():
        response = client.put(f"/api/v1/calendar/overrides/{day}", headers=admin,
                              json={"working": working, "note": note})
        assert response.status_code == 200, response.text
    response = client.put("/api/v1/calendar/override-years/2027", headers=admin,
                          json={"note": "国务院办公厅通知"})
    assert response.status_code == 200, response.text


def _deadline(client, headers, start: str, value, unit: str):
    return client.get("/api/v1/calendar/deadline", headers=headers,
                      params={"start": start, "value": value, "unit": unit})


def _calendar_actions(database) -> list[str]:
    with database.read() as db:
        return list(db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("calendar.%"))
                               .order_by(AuditEvent.seq)))


def test_an_uncovered_year_is_a_409_problem_naming_it(client, database, settings):
    _, user = _users(client, database, settings)
    response = _deadline(client, user, "2026-12-31T16:00:00+08:00", 1, "working_days")
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "urn:gridgov:problem:calendar-not-covered"
    assert body["year"] == 2027 and "2027 年" in body["detail"]
    assert client.get("/api/v1/calendar/days", headers=user, params={"year": 2027}).status_code == 409


def test_after_an_admin_declares_2027_deadlines_cross_its_spring_festival(client, database, settings):
    admin, user = _users(client, database, settings)
    _enter_2027(client, admin)
    response = _deadline(client, user, "2027-02-05T16:00:00+08:00", 4, "working_hours")
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body["deadline_utc"]) == beijing(2027, 2, 15, 12)
    assert body["deadline_local"] == "2027-02-15T12:00:00+08:00"
    assert body["timezone"] == "Asia/Shanghai" and body["limit"]["text"] == "4 工作小时"
    response = _deadline(client, user, "2026-12-31T08:00:00Z", 1, "working_days")
    assert datetime.fromisoformat(response.json()["deadline_utc"]) == beijing(2027, 1, 4, 16)


def test_api_deadlines_and_elapsed_match_the_pure_functions(client, database, settings):
    _, user = _users(client, database, settings)
    calendar = WorkingCalendar.official()
    for start, value, unit in [("2026-02-13T16:00:00+08:00", "4", "working_hours"),
                               ("2026-09-30T20:00:00+08:00", "0.5", "working_days"),
                               ("2026-05-01T03:15:00Z", "90", "working_minutes"),
                               ("2026-05-01T03:15:00Z", "2", "natural_hours")]:
        response = _deadline(client, user, start, value, unit)
        assert response.status_code == 200, response.text
        expected = calendar.deadline(datetime.fromisoformat(start), TimeLimit(value, unit))
        assert datetime.fromisoformat(response.json()["deadline_utc"]) == expected
    response = client.get("/api/v1/calendar/elapsed", headers=user, params={
        "start": "2026-02-13T16:00:00+08:00", "end": "2026-02-25T10:00:00+08:00",
        "unit": "working_hours"})
    assert response.status_code == 200, response.text
    expected = calendar.elapsed(beijing(2026, 2, 13, 16), beijing(2026, 2, 25, 10),
                                LimitUnit.WORKING_HOURS)
    assert Decimal(response.json()["elapsed"]) == expected.quantize(Decimal("0.000001"))
    assert Decimal(response.json()["seconds"]) == expected * 3600


def test_naive_datetimes_and_bad_limits_are_422_problems(client, database, settings):
    _, user = _users(client, database, settings)
    naive = _deadline(client, user, "2026-02-13T16:00:00", 4, "working_hours")
    assert naive.status_code == 422 and naive.headers["content-type"] == PROBLEM_JSON
    assert [e["field"] for e in naive.json()["errors"]] == ["query.start"]
    naive_end = client.get("/api/v1/calendar/elapsed", headers=user, params={
        "start": "2026-02-13T16:00:00Z", "end": "2026-02-14T16:00:00", "unit": "working_hours"})
    assert naive_end.status_code == 422
    assert _deadline(client, user, "2026-02-13T16:00:00Z", -1, "working_hours").status_code == 422
    assert _deadline(client, user, "2026-02-13T16:00:00Z", 1, "hours").status_code == 422


def test_any_signed_in_user_reads_the_days_of_a_year(client, database, settings):
    _, user = _users(client, database, settings)
    response = client.get("/api/v1/calendar/days", headers=user, params={"year": 2026})
    assert response.status_code == 200
    body = response.json()
    assert body["covered_by"] == "library" and len(body["days"]) == 365
    new_year = body["days"][0]
    assert new_year == {"date": "2026-01-01", "weekday": 4, "weekday_label": "星期四",
                        "working": False, "kind": "holiday", "source": "library", "name": "元旦"}
    assert client.get("/api/v1/calendar/days", params={"year": 2026}).status_code == 401


def test_a_non_admin_cannot_change_overrides_and_nothing_is_written(client, database, settings):
    _, user = _users(client, database, settings)
    refused = [
        client.put("/api/v1/calendar/overrides/2027-01-01", headers=user,
                   json={"working": False, "note": "元旦"}),
        client.delete("/api/v1/calendar/overrides/2027-01-01", headers=user),
        client.put("/api/v1/calendar/override-years/2027", headers=user),
        client.get("/api/v1/calendar/overrides", headers=user),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert refused[0].headers["content-type"] == PROBLEM_JSON
    with database.read() as db:
        for model in (CalendarOverride, CalendarOverrideYear, CalendarRevision):
            assert db.scalars(select(model)).first() is None
        denied = db.scalars(select(AuditEvent.action).where(AuditEvent.action == "access.denied")).all()
    assert len(denied) == 4 and _calendar_actions(database) == []


def test_admin_changes_are_listed_and_audited(client, database, settings):
    admin, _ = _users(client, database, settings)
    _enter_2027(client, admin)
    assert client.delete("/api/v1/calendar/overrides/2027-02-20", headers=admin).status_code == 204
    assert client.delete("/api/v1/calendar/overrides/2027-02-20", headers=admin).status_code == 404
    listing = client.get("/api/v1/calendar/overrides", headers=admin, params={"year": 2027}).json()
    assert listing["library_years"] == [2004, 2026]
    assert [y["year"] for y in listing["override_years"]] == [2027]
    assert len(listing["overrides"]) == len(OVERRIDES_2027) - 1
    assert listing["revision"] == len(OVERRIDES_2027) + 2
    assert _calendar_actions(database) == (
        ["calendar.override.set"] * len(OVERRIDES_2027)
        + ["calendar.year.declare", "calendar.override.delete"])
    with database.read() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "calendar.year.declare")).one()
    assert event.actor_name == "admin1" and event.role == "admin" and event.object_id == "2027"


def test_an_ambiguous_declaration_is_refused(client, database, settings):
    admin, _ = _users(client, database, settings)
    empty = client.put("/api/v1/calendar/override-years/2027", headers=admin)
    assert empty.status_code == 409 and empty.json()["year"] == 2027
    library = client.put("/api/v1/calendar/override-years/2026", headers=admin)
    assert library.status_code == 409
    assert client.put("/api/v1/calendar/override-years/1990", headers=admin).status_code == 422
    assert client.put("/api/v1/calendar/overrides/2027-02-30", headers=admin,
                      json={"working": True}).status_code == 422
    assert _calendar_actions(database) == []
