"""派遣调度 in a real browser: the dispatcher finds a filed case in the queue with the duty
matrix's suggestion and dispatches it there from the side panel."""

import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import api_as, screenshots, sign_in
from tests.cases.flow import ILLEGAL_STRUCTURE, move, report


def _filed_case(live_server) -> dict:
    intake = api_as(live_server, "intake")
    case = report(intake, {}, ref=f"GD-{uuid.uuid4().hex[:10]}", description="东华门大街有人私搭乱建彩钢房")
    return move(intake, {}, case, "file", type_code=ILLEGAL_STRUCTURE)


def test_a_dispatcher_dispatches_from_the_queue_to_the_suggested_unit(page: Page, live_server) -> None:
    case = _filed_case(live_server)
    sign_in(page, "dispatcher")
    expect(page).to_have_url("/dispatch")
    row = page.locator(f'#to-dispatch tr[data-case="{case["number"]}"]')
    expect(row.locator(".suggestion")).to_contain_text("东华门城管执法队")
    expect(row.locator(".clock")).to_contain_text("剩余")
    screenshots(page, "dispatch")

    row.get_by_role("button", name=f"派遣 {case['number']}").click()
    panel = page.locator("#action-panel")
    expect(panel.get_by_label("派往单位")).to_have_value("D002-01")
    panel.get_by_role("button", name="派遣", exact=True).click()

    expect(page).to_have_url("/dispatch")
    expect(page.locator(f'#to-dispatch tr[data-case="{case["number"]}"]')).to_have_count(0)
    detail = api_as(live_server, "dispatcher").get(f"/api/v1/cases/{case['id']}").json()
    assert (detail["status"], detail["holder_unit_code"]) == ("dispatched", "D002-01")
