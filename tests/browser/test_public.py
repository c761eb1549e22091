import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from gridgov.cases.models import Case
from gridgov.grid.crs import CRS, from_gcj02
from tests.browser.conftest import LiveServer, api_as, screenshots
from tests.cases.flow import DONGHUAMEN, png


def _close_with_a_reply(live_server: LiveServer, code: str, reply: str) -> None:
    with live_server.database.read() as db:
        case_id = db.scalar(select(Case.id).where(Case.tracking_code == code))
    api = api_as(live_server, "dispatcher")
    try:
        case = api.get(f"/api/v1/cases/{case_id}").json()
        closed = api.post(f"/api/v1/cases/{case_id}/transitions/force_close",
                          json={"version": case["version"], "reason": "现场已清理"})
        assert closed.status_code == 200, closed.text
        reporter = api.get(f"/api/v1/feedback/cases/{case_id}").json()["reporters"][0]
        replied = api.post(f"/api/v1/feedback/cases/{case_id}/replies", json={
            "reporter_id": reporter["reporter_id"], "text": reply, "way": "phone"})
        assert replied.status_code == 201, replied.text
    finally:
        api.close()


def test_a_member_of_the_public_reports_on_a_phone_then_tracks_and_rates(new_page, live_server) -> None:
    page: Page = new_page(width=375)
    lng, lat = from_gcj02(*DONGHUAMEN, CRS.WGS84)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"longitude": lng, "latitude": lat})
    page.goto("/report")

    page.get_by_label("照片").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png()}])
    expect(page.get_by_role("img", name="待上传照片 photo.png")).to_be_visible()
    expect(page.locator("#report-map canvas")).to_be_visible()  # the street outlines are drawn
    page.locator("#report-map").click()  # the centre of the district
    expect(page.locator("#place-status")).to_contain_text(re.compile(r"已选位置：\S+街道"))
    page.get_by_role("button", name="使用当前位置").click()
    expect(page.locator("#place-status")).to_contain_text("东华门街道")
    expect(page.get_by_label("坐标系")).to_have_value("wgs84")
    page.get_by_label("问题描述").fill("胡同口堆了很多建筑垃圾，影响通行")
    page.get_by_label("手机或电话").fill("13912345678")
    screenshots(page, "public-report")
    page.get_by_role("button", name="提交上报").click()

    expect(page.get_by_role("heading", name="上报成功")).to_be_visible()
    code = page.locator("#tracking-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{10}", code)
    page.get_by_role("link", name="查看办理进度").click()
    expect(page).to_have_url(f"/track/{code}")
    expect(page.get_by_text("胡同口堆了很多建筑垃圾，影响通行")).to_be_visible()
    expect(page.get_by_text("13912345678")).to_have_count(0)

    _close_with_a_reply(live_server, code, "建筑垃圾已清运完毕，感谢您的监督")
    page.reload()
    expect(page.get_by_text("建筑垃圾已清运完毕，感谢您的监督")).to_be_visible()
    page.get_by_label("满意", exact=True).check()
    page.get_by_label("意见或建议（选填）").fill("清理得很快")
    screenshots(page, "public-track")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_role("status").filter(has_text="感谢您的评价")).to_be_visible()
    expect(page.get_by_role("button", name="提交评价")).to_have_count(0)
