"""The field page on a phone: a supervisor reports a problem with a photo and the phone's
position, and handles a simple one on the spot with before and after photos."""

from playwright.sync_api import Page, expect

from tests.browser.conftest import api_as, screenshots, sign_in
from tests.cases.flow import png

# The phone's GPS position (WGS-84) in 东华门街道 多福巷社区.
PHONE_POSITION = {"latitude": 39.9136, "longitude": 116.3826, "accuracy": 8}
SMALL_ADS = "E020101"


def _phone(new_page) -> Page:
    page = new_page(width=375)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation(PHONE_POSITION)
    sign_in(page, "supervisor")
    expect(page).to_have_url("/field")
    return page


def _photo(name: str) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png()}


def _located(page: Page) -> None:
    page.get_by_role("button", name="使用当前位置").click()
    expect(page.locator("#location-status")).to_contain_text("已使用当前位置")
    expect(page.locator("#f-crs")).to_have_value("wgs84")


def _case(live_server, number: str) -> dict:
    found = api_as(live_server, "dispatcher").get("/api/v1/cases", params={"text": number}).json()["items"]
    assert len(found) == 1
    return found[0]


def test_supervisor_reports_a_problem_with_a_photo_and_the_phones_position(new_page, live_server) -> None:
    page = _phone(new_page)
    page.get_by_label("问题描述").fill("人行道上堆放建筑垃圾")
    page.get_by_role("button", name="上报问题").click()
    expect(page.locator("#photo-error")).to_have_text("请拍摄或选择一张照片")
    expect(page.locator("#location-error")).to_contain_text("使用当前位置")

    page.get_by_label("现场照片（处置前）").set_input_files(files=[_photo("scene.png")])
    _located(page)
    page.get_by_role("button", name="上报问题").click()
    notice = page.get_by_role("status").filter(has_text="已上报")
    expect(notice).to_be_visible()
    number = notice.inner_text().split("案件编号 ")[1].split("，")[0]
    case = _case(live_server, number)
    assert (case["channel"], case["status"], case["street_code"]) == ("supervisor_patrol", "reported", "110101001")
    screenshots(page, "field")


def test_supervisor_handles_a_simple_problem_on_the_spot(new_page, live_server) -> None:
    page = _phone(new_page)
    page.get_by_label("现场照片（处置前）").set_input_files(files=[_photo("before.png")])
    _located(page)
    page.get_by_label("搜索事项类型").fill("小广告")
    choice = page.get_by_label("事项类型", exact=True)
    expect(choice.locator(f'option[value="{SMALL_ADS}"]')).to_have_count(1)
    choice.select_option(SMALL_ADS)
    page.get_by_label("问题描述").fill("电线杆上贴满小广告")
    page.get_by_text("简单问题，现场立即处置（L1）").click()
    page.get_by_label("处置后照片").set_input_files(files=[_photo("after.png")])
    page.get_by_label("处置情况").fill("已清除电线杆上的小广告")
    page.get_by_role("button", name="立即处置并结案").click()
    notice = page.get_by_role("status").filter(has_text="已立即处置并结案")
    expect(notice).to_be_visible()
    number = notice.inner_text().split("案件编号 ")[1].rstrip("。")
    case = _case(live_server, number)
    assert (case["status"], case["grade"], case["close_kind"]) == ("closed", "L1", "self_handled")
