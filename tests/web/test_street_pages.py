"""街道工作台 through the ASGI app, on SQLite and PostgreSQL: the street's case inbox with the
case actions it may take, the reports it coordinates, and its whistles."""

import pytest

from tests.cases.flow import ILLEGAL_STRUCTURE, move, report
from tests.web.test_whistle_pages import section
from tests.whistle.conftest import whistle_database, whistle_world  # noqa: F401
from tests.whistle.flow import departments, l3_case, start, step, users

pytestmark = pytest.mark.usefixtures("whistle_world")


def test_cases_sent_to_the_street_carry_the_actions_it_may_take(pages, api):
    u = users(api)
    case = move(api, u["intake"], report(api, u["intake"], ref="GD-S1"), "file", type_code=ILLEGAL_STRUCTURE)
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="110101001", reason="街道统筹")
    waiting = l3_case(api, u, ref="GD-S2")
    page = pages("street").get("/street")
    assert page.status_code == 200
    new = section(page.text, "h-new")
    assert case["number"] in new
    assert f'hx-get="/cases/{case["id"]}/act/receive?return_to=/street"' in new
    assert "/act/close" not in new and "/act/verify" not in new  # not the street's to take
    to_whistle = section(page.text, "h-to_whistle")
    assert f'href="/whistles/new?case_id={waiting["id"]}"' in to_whistle and case["number"] not in to_whistle


def test_community_reports_wait_for_the_street_to_coordinate(pages, api):
    u = users(api)
    community = report(api, u["intake"], ref="WG-1", channel="micro_grid", description="社区微网格：楼道堆物")
    hotline = report(api, u["intake"], ref="GD-S3")
    reports = section(pages("street").get("/street").text, "h-reports")
    assert community["number"] in reports and hotline["number"] not in reports
    assert f'/cases/{community["id"]}/act/file?return_to=/street' in reports


def test_the_street_sees_its_open_whistles_and_those_to_rate(pages, api):
    u = users(api)
    whistle = start(api, u["street"], case_id=l3_case(api, u)["id"], departments=departments("D011"))
    whistle = step(api, u["dispatcher"], whistle, "summon")
    page = pages("street").get("/street").text
    assert whistle["number"] in section(page, "h-open")
    assert "已派发待报到" in section(page, "h-open") and 'data-deadline="2026-12-02T02:00:00+00:00"' in page
    assert whistle["number"] not in section(page, "h-to_report_outcome")
    assert whistle["number"] not in pages("jgm_street").get("/street").text
    assert pages("department").get("/street").status_code == 403
