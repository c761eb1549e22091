"""A case from the detail page: the dispatcher dispatches to the suggested unit, the field unit
receives it and reports the result with an after photo; the timeline shows every step."""

import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import api_as, screenshots, sign_in
from tests.cases.flow import DONGHUAMEN, ILLEGAL_STRUCTURE, png


def _filed_case(live_server) -> dict:
    intake = api_as(live_server, "intake")
    response = intake.post("/api/v1/cases", json={
        "channel": "hotline_12345", "channel_ref": f"GD-{uuid.uuid4().hex[:10]}",
        "description": "胡同口有人私搭乱建彩钢房", "lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1],
        "reporter_name": "张三丰", "reporter_phone": "13812345678"})
    assert response.status_code == 201, response.text
    case = response.json()["case"]
    response = intake.post(f"/api/v1/cases/{case['id']}/transitions/file",
                           json={"version": case["version"], "type_code": ILLEGAL_STRUCTURE})
    assert response.status_code == 200, response.text
    return response.json()


def _take(page: Page, label: str) -> None:
    """Open an action's form in the detail page's panel and submit it."""
    page.get_by_role("link", name=label, exact=True).click()
    panel = page.locator("#action-panel")
    expect(panel.get_by_role("heading")).to_contain_text(label)
    panel.get_by_role("button", name=label, exact=True).click()


def test_a_case_is_dispatched_received_and_reported_from_its_detail_page(new_page, live_server) -> None:
    case = _filed_case(live_server)
    detail = f"/cases/{case['id']}"

    dispatcher = new_page()
    sign_in(dispatcher, "dispatcher")
    dispatcher.goto(detail)
    expect(dispatcher.get_by_role("heading", level=1)).to_contain_text(case["number"])
    dispatcher.get_by_role("link", name="派遣", exact=True).click()
    panel = dispatcher.locator("#action-panel")
    expect(panel.locator("#duty-suggestion")).to_contain_text("D002-01")
    expect(panel.get_by_label("派往单位")).to_have_value("D002-01")
    panel.get_by_role("button", name="派遣", exact=True).click()
    expect(dispatcher.locator(".case-head")).to_contain_text("已派遣待签收")

    fieldunit = new_page()
    sign_in(fieldunit, "fieldunit")
    fieldunit.goto(detail)
    _take(fieldunit, "签收")
    expect(fieldunit.locator(".case-head")).to_contain_text("处置中")
    fieldunit.get_by_role("link", name="处置反馈", exact=True).click()
    panel = fieldunit.locator("#action-panel")
    panel.get_by_label("处置结果").fill("已拆除彩钢房，恢复原状")
    panel.get_by_label("处置后照片").set_input_files(
        files=[{"name": "after.png", "mimeType": "image/png", "buffer": png()}])
    panel.get_by_role("button", name="处置反馈", exact=True).click()
    expect(fieldunit.locator(".case-head")).to_contain_text("已处置待核查")

    timeline = fieldunit.locator("#timeline")
    for step in ("上报", "立案", "派遣", "签收", "处置反馈"):
        expect(timeline.get_by_text(step, exact=True)).to_be_visible()
    expect(timeline).to_contain_text("已拆除彩钢房，恢复原状")
    expect(fieldunit.locator("#photos img")).to_have_count(1)
    screenshots(fieldunit, "case-detail")

    dispatcher.goto("/cases?status=handled")
    expect(dispatcher.locator("#case-results")).to_contain_text(case["number"])
    dispatcher.get_by_label("状态").select_option("closed")
    expect(dispatcher).to_have_url("/cases?status=closed")
    expect(dispatcher.locator("#case-results")).not_to_contain_text(case["number"])
    dispatcher.get_by_label("状态").select_option("handled")
    expect(dispatcher.locator("#case-results")).to_contain_text(case["number"])
    screenshots(dispatcher, "case-search")
