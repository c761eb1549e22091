"""The department workbench on a phone: 城管委 receives a dispatched case with one click,
returns another with a reason, and reports the result of a third with a photo."""

import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import api_as, screenshots, sign_in
from tests.cases.flow import DONGHUAMEN, EXPOSED_GARBAGE, png


def _dispatched_to_d001(live_server) -> dict:
    intake, dispatcher = api_as(live_server, "intake"), api_as(live_server, "dispatcher")
    case = intake.post("/api/v1/cases", json={
        "channel": "hotline_12345", "channel_ref": f"GD-{uuid.uuid4().hex[:10]}",
        "description": "路口有暴露垃圾", "lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1]}).json()["case"]
    case = intake.post(f"/api/v1/cases/{case['id']}/transitions/file",
                       json={"version": case["version"], "type_code": EXPOSED_GARBAGE}).json()
    response = dispatcher.post(f"/api/v1/cases/{case['id']}/transitions/dispatch", json={
        "version": case["version"], "unit_code": "D001", "reason": "城管委统筹协调"})
    assert response.status_code == 200, response.text
    return response.json()


def _status(live_server, case: dict) -> str:
    return api_as(live_server, "dispatcher").get(f"/api/v1/cases/{case['id']}").json()["status"]


def _open(page: Page, label: str, case: dict):
    """Open an action's form for the case in the workbench's panel."""
    page.get_by_role("button", name=f"{label} {case['number']}", exact=True).click()
    panel = page.locator("#action-panel")
    expect(panel.get_by_role("heading")).to_contain_text(case["number"])
    return panel


def test_department_receives_returns_and_reports_from_its_workbench(new_page, live_server) -> None:
    to_receive, to_return, to_report = (_dispatched_to_d001(live_server) for _ in range(3))
    department = api_as(live_server, "department")
    response = department.post(f"/api/v1/cases/{to_report['id']}/transitions/receive",
                               json={"version": to_report["version"]})
    assert response.status_code == 200, response.text

    page = new_page(width=375)
    sign_in(page, "department")
    expect(page).to_have_url("/department")
    expect(page.get_by_role("link", name="新派件")).to_have_attribute("aria-current", "page")
    row = page.locator(f"#case-{to_receive['id']}")
    expect(row.locator(".clock")).to_be_visible()

    row.get_by_role("button", name=f"签收 {to_receive['number']}").click()
    expect(page.locator(f"#case-{to_receive['id']}")).to_have_count(0)
    assert _status(live_server, to_receive) == "received"

    panel = _open(page, "回退", to_return)
    panel.get_by_role("button", name="回退", exact=True).click()
    expect(panel.locator("#reason-error")).to_be_visible()  # a return needs its reason
    panel.get_by_label("理由").fill("垃圾清运属环卫中心职责，请重新派遣")
    panel.get_by_role("button", name="回退", exact=True).click()
    expect(page.locator(f"#case-{to_return['id']}")).to_have_count(0)
    assert _status(live_server, to_return) == "returned"

    page.get_by_role("link", name="处置中").click()
    panel = _open(page, "处置反馈", to_report)
    panel.get_by_label("处置结果").fill("已清运暴露垃圾，路面冲洗干净")
    panel.get_by_label("处置后照片").set_input_files(
        files=[{"name": "after.png", "mimeType": "image/png", "buffer": png()}])
    screenshots(page, "department")
    panel.get_by_role("button", name="处置反馈", exact=True).click()
    expect(page.locator(f"#case-{to_report['id']}")).to_have_count(0)
    assert _status(live_server, to_report) == "handled"
    kinds = [a["kind"] for a in department.get(f"/api/v1/cases/{to_report['id']}/attachments").json()]
    assert kinds == ["after"]


def test_department_receives_the_cases_it_checks_in_one_go(new_page, live_server) -> None:
    first, second = (_dispatched_to_d001(live_server) for _ in range(2))
    page = new_page()
    sign_in(page, "department")
    for case in (first, second):
        page.get_by_label(f"选择 {case['number']}").check()
    page.get_by_role("button", name="签收所选").click()
    expect(page).to_have_url("/department?tab=new")
    for case in (first, second):
        expect(page.locator(f"#case-{case['id']}")).to_have_count(0)
        assert _status(live_server, case) == "received"
