"""The whole path of one report, every step through the pages as its people do it:
a member of the public reports with a photo → the intake operator files it → the dispatcher
dispatches it → the unit returns it with a reason → the dispatcher re-dispatches it → the
department receives it and reports the result with a photo → the supervisor verifies → the
dispatcher closes it and replies → the public sees the reply and rates it."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshots, sign_in
from tests.cases.flow import ILLEGAL_STRUCTURE, png


def _act(page: Page, label: str, **fields: str) -> None:
    """Take an action from the case detail: open its form, fill what it asks, submit."""
    page.get_by_role("link", name=label, exact=True).click()
    panel = page.locator("#action-panel")
    expect(panel.get_by_role("heading")).to_contain_text(label)
    for field_label, value in fields.items():
        panel.get_by_label(field_label).fill(value)
    panel.get_by_role("button", name=label, exact=True).click()


def _status(page: Page, text: str) -> None:
    expect(page.locator(".case-head")).to_contain_text(text)


def _photo(name: str) -> list[dict]:
    return [{"name": name, "mimeType": "image/png", "buffer": png()}]


def test_a_public_report_runs_through_every_workbench_to_the_public_rating(new_page) -> None:
    public = new_page(width=375)
    public.goto("/report")
    public.get_by_label("照片").set_input_files(files=_photo("scene.png"))
    expect(public.locator("#report-map canvas")).to_be_visible()
    public.locator("#report-map").click()
    expect(public.locator("#place-status")).to_contain_text(re.compile(r"已选位置：\S+街道"))
    public.get_by_label("问题描述").fill("胡同里有人私搭乱建彩钢房，堵了消防通道")
    public.get_by_label("手机或电话").fill("13912345678")
    public.get_by_role("button", name="提交上报").click()
    code = public.locator("#tracking-code").inner_text().strip()

    intake = new_page()
    sign_in(intake, "intake")
    intake.goto("/cases?status=reported")
    intake.locator("#case-results").get_by_role("link").filter(has_text=re.compile(r"^\d{11}$")).first.click()
    expect(intake.get_by_text("堵了消防通道")).to_be_visible()
    number = re.search(r"\d{11}", intake.get_by_role("heading", level=1).inner_text()).group(0)
    detail = intake.url
    _act(intake, "立案", 事项类型=ILLEGAL_STRUCTURE)
    _status(intake, "已立案待派遣")

    dispatcher = new_page()
    sign_in(dispatcher, "dispatcher")
    dispatcher.goto(detail)
    _act(dispatcher, "派遣")  # to the unit the duty matrix suggests: 东华门城管执法队
    _status(dispatcher, "已派遣待签收")

    fieldunit = new_page()
    sign_in(fieldunit, "fieldunit")
    fieldunit.goto(detail)
    _act(fieldunit, "回退", 理由="消防通道占用由区城管委统筹处置，请重新派遣")
    _status(fieldunit, "已回退待重新派遣")

    dispatcher.goto(detail)
    dispatcher.get_by_role("link", name="派遣", exact=True).click()
    panel = dispatcher.locator("#action-panel")
    panel.get_by_label("派往单位").select_option("D001")
    panel.get_by_label("改派理由").fill("执法队回退：由城管委统筹")
    panel.get_by_role("button", name="派遣", exact=True).click()
    _status(dispatcher, "已派遣待签收")

    department = new_page()
    sign_in(department, "department")
    expect(department.get_by_role("link", name=re.compile(number))).to_be_visible()  # in its inbox
    department.goto(detail)
    _act(department, "签收")
    _status(department, "处置中")
    department.get_by_role("link", name="处置反馈", exact=True).click()
    panel = department.locator("#action-panel")
    panel.get_by_label("处置结果").fill("已拆除彩钢房，消防通道恢复畅通")
    panel.get_by_label("处置后照片").set_input_files(files=_photo("after.png"))
    panel.get_by_role("button", name="处置反馈", exact=True).click()
    _status(department, "已处置待核查")

    supervisor = new_page()
    sign_in(supervisor, "supervisor")
    supervisor.goto(detail)
    _act(supervisor, "核查通过", 核查意见="现场复核，彩钢房已拆除")
    _status(supervisor, "核查通过待结案")

    dispatcher.goto(detail)
    _act(dispatcher, "结案")
    _status(dispatcher, "已结案")
    reply = dispatcher.locator("#feedback")
    reply.get_by_label("答复内容").fill("您反映的私搭乱建已拆除，消防通道已恢复，感谢监督")
    reply.get_by_role("button", name="记录答复").click()
    expect(dispatcher.locator("#feedback")).to_contain_text("已答复")
    timeline = dispatcher.locator("#timeline")
    for step in ("上报", "立案", "派遣", "回退", "签收", "处置反馈", "核查通过", "结案"):
        expect(timeline.get_by_text(step, exact=True).first).to_be_visible()

    public.goto(f"/track/{code}")
    expect(public.get_by_text("您反映的私搭乱建已拆除，消防通道已恢复，感谢监督")).to_be_visible()
    public.get_by_label("满意", exact=True).check()
    public.get_by_role("button", name="提交评价").click()
    expect(public.get_by_role("status").filter(has_text="感谢您的评价")).to_be_visible()
    screenshots(public, "public-done")
