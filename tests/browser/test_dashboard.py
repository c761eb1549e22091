"""指挥驾驶舱 in a real browser: the district map drawn from our GeoJSON, drilling down to a
street's communities and back, the hot-spot colouring and the ECharts charts."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from gridgov.cases.models import Case
from gridgov.org.models import Unit

from tests.browser.conftest import api_as, screenshots, sign_in
from tests.cases.conftest import START

BEIJING = ZoneInfo("Asia/Shanghai")

DONGHUAMEN_GRIDS = ("110101001001001", "110101001002001", "110101001003001")
STREETS, DONGHUAMEN_COMMUNITIES = 17, 9


def _reported_in(live_server, *conditions) -> int:
    """Cases on the map of the last 30 days (other browser tests report too: never assume an
    empty database)."""
    first_day = START.astimezone(BEIJING).date() - timedelta(days=29)
    since = datetime.combine(first_day, time(), tzinfo=BEIJING)
    with live_server.database.read() as db:
        return db.scalar(select(func.count()).select_from(Case).where(
            Case.status.not_in(("merged", "rejected")), Case.reported_at >= since, *conditions))


def _report_cases(live_server) -> None:
    intake = api_as(live_server, "intake")
    for n, grid in enumerate(DONGHUAMEN_GRIDS * 3 + ("110101002001001",)):
        response = intake.post("/api/v1/cases", json={
            "channel": "hotline_12345", "channel_ref": f"BR-DASH-{n}", "description": "占道经营，影响通行",
            "grid_code": grid, "reporter_phone": "13800000000"})
        assert response.status_code in (200, 201), response.text


def test_the_leader_drills_down_the_map_and_reads_the_charts(page: Page, live_server) -> None:
    _report_cases(live_server)
    sign_in(page, "leader")
    expect(page).to_have_url("/dashboard")
    shapes = page.locator("#dash-map path.leaflet-interactive")
    expect(shapes).to_have_count(STREETS)
    street = page.locator('#dash-map path[aria-label^="东华门街道"]')
    expect(street).to_have_attribute("aria-label", re.compile(r"东华门街道：[1-9]\d* 件"))
    for chart in ("chart-trend", "chart-types", "chart-channels"):
        expect(page.locator(f"#{chart} canvas")).to_have_count(1)
    expect(page.locator("#stat-reported")).not_to_have_text("—")

    street.click()
    expect(page.locator("#breadcrumb [aria-current]")).to_have_text("东华门街道")
    expect(shapes).to_have_count(DONGHUAMEN_COMMUNITIES)
    duofuxiang = _reported_in(live_server, Case.community_id == select(Unit.id).where(
        Unit.code == "110101001001").scalar_subquery())
    expect(page.get_by_role("row", name=re.compile("多福巷社区")).get_by_role("cell").first).to_have_text(
        str(duofuxiang))

    # keyboard: a community is a button on the map; Enter opens its grids
    community = page.locator('#dash-map path[aria-label^="多福巷社区"]')
    community.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#breadcrumb [aria-current]")).to_have_text("多福巷社区")
    expect(shapes.first).to_be_attached()
    grid = _reported_in(live_server, Case.unit_grid_code == DONGHUAMEN_GRIDS[0])
    expect(page.get_by_role("row", name=re.compile("110101001001001")).get_by_role("cell").first).to_have_text(
        str(grid))

    page.get_by_role("radio", name="热点分析（Gi*）").check()
    expect(page.locator("#map-legend")).to_contain_text("热点 99%")

    page.locator("#breadcrumb").get_by_role("button", name="东城区").click()
    expect(shapes).to_have_count(STREETS)
    expect(page.locator("#map-legend")).to_contain_text("热点网格")
    page.get_by_role("radio", name="案件密度").check()
    screenshots(page, "dashboard")


def test_a_street_sees_its_own_communities_first(page: Page, live_server) -> None:
    sign_in(page, "street")
    page.goto("/dashboard")
    expect(page.locator("#breadcrumb [aria-current]")).to_have_text("东华门街道")
    expect(page.locator("#dash-map path.leaflet-interactive")).to_have_count(DONGHUAMEN_COMMUNITIES)
