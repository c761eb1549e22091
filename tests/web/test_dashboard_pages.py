"""指挥驾驶舱 through the ASGI app on SQLite and PostgreSQL: who may open it, and the figures of
its data endpoints against cases made for the test."""

import time
from datetime import UTC, datetime

import pytest

from tests.assessment.rows import Rows, at
from tests.cases.flow import report, sign_in

DUOFUXIANG_1 = "110101001001001"  # 东华门街道 / 多福巷社区
SHAOJIU_1 = "110101001002001"  # 东华门街道 / 韶九社区
OTHER_STREET_1 = "110101002001001"  # the next street


@pytest.fixture
def scene(api, frozen):
    """Six cases reported in the last 30 days in three grids of two streets, and one a year ago."""
    intake = sign_in(api, "intake")
    for n, grid in enumerate([DUOFUXIANG_1] * 3 + [SHAOJIU_1] + [OTHER_STREET_1] * 2):
        report(api, intake, ref=f"DB-{n}", grid_code=grid, lng=None, lat=None,
               reported_at=datetime(2026, 11, 20 + n, 2, tzinfo=UTC).isoformat())
    report(api, intake, ref="DB-last-year", grid_code=DUOFUXIANG_1, lng=None, lat=None,
           reported_at=datetime(2025, 11, 21, 2, tzinfo=UTC).isoformat())


def test_leaders_dispatchers_and_streets_open_the_dashboard_a_department_is_refused(pages):
    for username in ("leader", "dispatcher", "street"):
        page = pages(username).get("/dashboard")
        assert page.status_code == 200, username
        assert "指挥驾驶舱" in page.text and "vendor/echarts.min.js" in page.text and 'id="dash-map"' in page.text
    street = pages("street").get("/dashboard")
    assert 'data-root-code="110101001"' in street.text and 'data-root-level="community"' in street.text
    department = pages("department")
    refused = department.get("/dashboard")
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    for path in ("density", "summary", "trends", "mix", "rankings", "hotspots"):
        data = department.get(f"/dashboard/data/{path}")
        assert data.status_code == 403, path
        assert data.headers["content-type"] == "application/problem+json"
        assert data.json()["status"] == 403


def test_density_counts_the_cases_reported_in_each_area_the_user_may_see(pages, scene):
    leader = pages("leader")
    streets = leader.get("/dashboard/data/density?period=30d&level=street").json()
    assert streets["counts"] == {"110101001": 4, "110101002": 2} and streets["total"] == 6
    communities = leader.get("/dashboard/data/density?level=community&parent=110101001").json()
    assert communities["counts"] == {"110101001001": 3, "110101001002": 1}
    grids = leader.get("/dashboard/data/density?level=unit&parent=110101001001").json()
    assert grids["counts"] == {DUOFUXIANG_1: 3}
    # this month (December) holds none of them; this year holds the six, not last year's
    assert leader.get("/dashboard/data/density?period=month").json()["counts"] == {}
    assert leader.get("/dashboard/data/density?period=year").json()["total"] == 6
    # a street sees its own street only
    street = pages("street").get("/dashboard/data/density?level=street").json()
    assert street["counts"] == {"110101001": 4}
    missing = leader.get("/dashboard/data/density?level=community")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "parent"
    assert leader.get("/dashboard/data/density?level=unit&parent=999").status_code == 404
    assert leader.get("/dashboard/data/density?period=decade").status_code == 422


def test_big_numbers_trends_and_mix_count_the_same_cases(pages, scene, frozen):
    leader = pages("leader")
    summary = leader.get("/dashboard/data/summary").json()
    assert (summary["reported"], summary["reported_last_year"], summary["yoy"]) == (6, 1, 5.0)
    assert summary["open"] == 7 and summary["overdue"] == 0 and summary["closed"] == 0
    trend = leader.get("/dashboard/data/trends?granularity=day").json()
    assert len(trend["labels"]) == 30 and sum(trend["counts"]) == 6
    assert trend["counts"][trend["labels"].index("2026-11-20")] == 1
    assert trend["last_year"][trend["labels"].index("2026-11-21")] == 1
    monthly = leader.get("/dashboard/data/trends?period=year&granularity=month").json()
    assert monthly["labels"][-2:] == ["2026-11", "2026-12"] and monthly["counts"][-2] == 6
    mix = leader.get("/dashboard/data/mix").json()
    assert [(c["code"], c["count"], c["last_year"]) for c in mix["channels"]] == [("hotline_12345", 6, 1)]
    assert sum(t["count"] for t in mix["types"]) == 6


def test_with_no_maximum_age_an_answer_is_fresh_as_soon_as_a_case_moves(pages, api, frozen, world_settings):
    world_settings.dashboard_max_age_seconds = 0
    leader = pages("leader")
    assert leader.get("/dashboard/data/density").json()["total"] == 0
    report(api, sign_in(api, "intake"), ref="DB-new", grid_code=DUOFUXIANG_1, lng=None, lat=None)
    assert leader.get("/dashboard/data/density").json()["counts"] == {"110101001": 1}


def test_a_changed_answer_is_served_until_its_maximum_age_then_recomputed_in_the_background(
        pages, api, frozen, world_settings):
    world_settings.dashboard_max_age_seconds = 60
    leader = pages("leader")
    first = leader.get("/dashboard/data/density").json()
    assert first["total"] == 0 and first["as_of"] == frozen.now.isoformat()
    report(api, sign_in(api, "intake"), ref="DB-new", grid_code=DUOFUXIANG_1, lng=None, lat=None)
    frozen.advance(seconds=30)
    assert leader.get("/dashboard/data/density").json() == first  # young enough: served as it is
    frozen.advance(seconds=31)
    assert leader.get("/dashboard/data/density").json() == first  # served once more, recomputed behind
    for _ in range(100):
        fresh = leader.get("/dashboard/data/density").json()
        if fresh["total"] == 1:
            break
        time.sleep(0.05)
    assert fresh["counts"] == {"110101001": 1} and fresh["as_of"] == frozen.now.isoformat()


def test_rankings_give_each_units_on_time_closure_rate(pages, world, frozen):
    with world.write() as db:
        r = Rows(db)
        on_time = r.case(responsible="D002-01", closed_at=at(11, 20), close_kind="normal")
        r.clock(on_time, "handling", "D002-01", at(11, 10), at(11, 15), finished=at(11, 12), overdue=False)
        late = r.case(responsible="D002", closed_at=at(11, 22), close_kind="normal")
        r.clock(late, "handling", "D002", at(11, 10), at(11, 15), finished=at(11, 18), overdue=True)
        street = r.case(responsible="110101001", closed_at=at(11, 20), close_kind="normal")
        r.clock(street, "handling", "110101001-K01", at(11, 10), at(11, 16), finished=at(11, 12), overdue=False)
        r.event(street, "report_result", at(11, 12), unit="110101001-K01")
        db.commit()
    rankings = pages("leader").get("/dashboard/data/rankings?period=30d").json()
    assert [(u["code"], u["due"], u["on_time"], u["rate"]) for u in rankings["departments"]] == [("D002", 2, 1, 0.5)]
    assert [(u["code"], u["rate"]) for u in rankings["streets"]] == [("110101001", 1.0)]
    assert pages("leader").get("/dashboard/data/rankings?period=month").json()["departments"] == []


def test_hot_spots_mark_the_grid_where_cases_cluster(pages, api, frozen):
    intake = sign_in(api, "intake")
    for n in range(12):
        report(api, intake, ref=f"HS-{n}", grid_code=DUOFUXIANG_1, lng=None, lat=None)
    hot = pages("leader").get("/dashboard/data/hotspots").json()
    assert hot["cases"] == 12 and hot["grids"] == 2322
    assert hot["unit"][DUOFUXIANG_1]["class"].startswith("hot_") and hot["unit"][DUOFUXIANG_1]["count"] == 12
    assert hot["street"]["110101001"] == sum(1 for code in hot["unit"] if code.startswith("110101001"))
    assert OTHER_STREET_1 not in hot["unit"]
