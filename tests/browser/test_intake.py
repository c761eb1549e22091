"""受理 in a real browser: an operator takes a 12345 call, places it by clicking the map,
attaches a photo, sees the earlier report of the same problem and merges into it."""

import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import api_as, screenshots, sign_in
from tests.cases.flow import png, report


def test_an_operator_takes_a_12345_call_on_the_map_and_merges_it_into_a_duplicate(
        page: Page, live_server) -> None:
    sign_in(page, "intake")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/grids/street") and r.ok):
        page.goto("/intake")
    expect(page.get_by_label("来源渠道")).to_have_value("hotline_12345")
    page.get_by_label("渠道工单号").fill(f"GD-{uuid.uuid4().hex[:10]}")
    page.get_by_label("反映人").fill("钱七")
    page.get_by_label("联系电话").fill("13900002222")
    page.get_by_label("问题描述").fill("南池子大街路边有人私搭乱建彩钢房")

    page.locator("#intake-map").click()  # the middle of the district
    expect(page.locator("#place-found")).to_contain_text("单元网格")
    lng, lat = page.get_by_label("经度").input_value(), page.get_by_label("纬度").input_value()
    assert lng and lat
    # someone reported the same spot through the API a little earlier
    earlier = report(api_as(live_server, "intake"), {}, ref=f"GD-{uuid.uuid4().hex[:10]}",
                     description="路边新搭了一间彩钢房", point=(float(lng), float(lat)))

    page.get_by_label("事项类型").fill("私搭")
    page.locator(".type-option").first.click()
    expect(page.get_by_label("事项类型")).to_have_value("E010101")
    page.get_by_label("照片").set_input_files(
        files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png()}])
    page.get_by_role("button", name="登记报件").click()

    expect(page.get_by_role("heading", name="已登记")).to_be_visible()
    duplicates = page.locator(".duplicates")
    expect(duplicates).to_contain_text(earlier["number"])
    screenshots(page, "intake")
    duplicates.get_by_role("button", name=f"合并到 {earlier['number']}").click()
    expect(page.get_by_role("status").filter(has_text="已合并到案件")).to_contain_text(earlier["number"])
