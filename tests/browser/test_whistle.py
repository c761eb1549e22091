"""A whistle with two departments, in a real browser: the street whistles on an L3 case, the
district sends the summons, 房管局 and 东华门城管执法队 (for 城管执法局) each report in and
finish, the street reports the outcome and rates both, the district closes."""

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.auth.policy import Role
from gridgov.auth.schemas import UserIn
from gridgov.demo.loader import DEMO_PASSWORD
from tests.browser.conftest import LiveServer, api_as, screenshots, sign_in
from tests.cases.flow import DONGHUAMEN
from tests.cases.flow import png as png_bytes
from tests.whistle.flow import UNDERGROUND_DWELLING


def housing_account(live_server: LiveServer) -> None:
    """A 房管局 (D011) account in the live server, as tests/whistle/conftest.py EXTRA_ACCOUNTS."""
    with live_server.database.write() as db:
        if db.scalar(select(User.id).where(User.username == "housing")) is None:
            auth.create_user(db, settings=live_server.settings, actor=SYSTEM_ACTOR, data=UserIn(
                username="housing", display_name="房管局值班员", password=DEMO_PASSWORD, unit_code="D011",
                roles=[Role.DEPARTMENT]))
            db.commit()


def case_to_whistle(live_server: LiveServer) -> dict:
    """An L3 case in 东华门: reported, filed as 地下空间违规住人, sent to the street to whistle."""
    intake, dispatcher = api_as(live_server, "intake"), api_as(live_server, "dispatcher")
    reported = intake.post("/api/v1/cases", json={
        "channel": "hotline_12345", "channel_ref": "GD-BROWSER-WHISTLE", "description": "东华门某楼普通地下室有人违规居住",
        "lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1], "reporter_name": "赵敏", "reporter_phone": "13912345678"})
    assert reported.status_code in (200, 201), reported.text
    case = reported.json()["case"]
    for client, name, fields in ((intake, "file", {"type_code": UNDERGROUND_DWELLING}),
                                 (dispatcher, "send_to_whistle", {"reason": "涉及人防、房管、城管多个部门"})):
        moved = client.post(f"/api/v1/cases/{case['id']}/transitions/{name}",
                            json={"version": case["version"], **fields})
        assert moved.status_code == 200, moved.text
        case = moved.json()
    return case


def take_step(page: Page, button: str, fields: dict[str, str], confirm: str) -> None:
    page.get_by_role("link", name=button).click()
    form = page.locator("form.step-form")
    for label, value in fields.items():
        form.get_by_label(label).fill(value)
    form.get_by_role("button", name=confirm).click()


def department_does_its_part(page: Page, url: str, username: str, department: str, tmp_path) -> None:
    sign_in(page, username)
    page.goto(url)
    take_step(page, f"报到（{department}）", {"报到地点": "东华门大街 12 号地下室入口", "带队人": "王队长",
                                            "到场人数": "4"}, "确认报到")
    expect(page.get_by_role("link", name=f"处置反馈（{department}）")).to_be_visible()
    page.get_by_role("link", name=f"处置反馈（{department}）").click()
    form = page.locator("form.step-form")
    form.get_by_label("处置结果").fill(f"{department}已完成本部门处置")
    photo = tmp_path / f"{username}.png"
    photo.write_bytes(png_bytes())
    form.get_by_label("处置材料（照片或 PDF，可多选）").set_input_files(str(photo))
    form.get_by_role("button", name="确认处置反馈").click()
    expect(page.get_by_text(f"{department}已完成本部门处置")).to_be_visible()


def test_a_whistle_with_two_departments_through_to_the_street_ratings(new_page, live_server, tmp_path):
    housing_account(live_server)
    case = case_to_whistle(live_server)

    # the street finds the case waiting to be whistled and whistles
    street = new_page()
    sign_in(street, "street")
    expect(street).to_have_url(re.compile("/street$"))
    row = street.get_by_role("row").filter(has_text=case["number"]).first
    expect(row).to_be_visible()
    screenshots(street, "street")
    with street.expect_navigation():  # until "load": htmx listens for the select's change only then
        row.get_by_role("link", name="吹哨").click()
    street.get_by_role("combobox", name="吹哨情形").select_option("ZF03")
    expect(street.get_by_label("东城区房屋管理局 D011")).to_be_checked()
    expect(street.get_by_label("东城区人民防空办公室 D032")).to_be_checked()
    for code, name in (("D032", "东城区人民防空办公室"), ("D012", "北京市公安局东城分局"), ("D020", "东城区消防救援支队")):
        street.get_by_label(f"{name} {code}").uncheck()
    street.get_by_label("对东城区房屋管理局的工作要求").fill("核查房屋产权和租赁情况，督促产权单位整改")
    screenshots(street, "whistle-new")
    street.get_by_role("button", name="吹哨并报区级平台备案").click()
    expect(street.get_by_text("已备案待派发")).to_be_visible()
    detail = street.url

    # the district sends the summons
    district = new_page()
    sign_in(district, "dispatcher")
    district.goto(detail)
    take_step(district, "派发", {}, "确认派发")
    expect(district.get_by_text("已派发办理中").first).to_be_visible()

    # each department reports in and finishes its part
    department_does_its_part(new_page(), detail, "housing", "东城区房屋管理局", tmp_path)
    department_does_its_part(new_page(), detail, "fieldunit", "东城区城市管理综合行政执法局", tmp_path)

    # the street reports the outcome, replies to the reporter and rates both departments
    street.goto(detail)
    street.get_by_role("link", name="结果上报与评价").click()
    form = street.locator("form.step-form")
    form.get_by_label("处置结果").fill("地下室住人已清退，产权单位完成整改")
    form.get_by_label("向反映人反馈方式").select_option("phone")
    form.get_by_label("一对一反馈内容").fill("已电话告知反映人处置结果")
    for department, marks in (("房管局", ("5", "5", "4", "5")), ("城管执法局", ("4", "2", "4", "4"))):
        group = form.get_by_role("group", name=department)
        for label, mark in zip(("报到效率", "配合度", "专业性", "担当意识"), marks, strict=True):
            group.get_by_label(label).select_option(mark)
    form.get_by_role("button", name="确认结果上报与评价").click()
    # a mark of 2 needs a comment: the form says so next to it, and nothing was reported
    comment = form.get_by_role("group", name="城管执法局").get_by_label("评价说明")
    expect(street.get_by_text("配合度评分不高于 2 分，须填写评价说明")).to_be_visible()
    comment.fill("现场配合不够主动，需街道多次协调")
    form.get_by_role("button", name="确认结果上报与评价").click()
    expect(street.get_by_text("已上报待核查").first).to_be_visible()

    # the district verifies and closes: the whistle's assessment is final
    district.goto(detail)
    take_step(district, "核查结案", {"核查意见": "现场核查属实，同意结案"}, "确认核查结案")
    expect(district.get_by_text("已结案").first).to_be_visible()
    assessment = district.get_by_role("region", name="一哨一考")
    expect(assessment.get_by_role("row").filter(has_text="东城区房屋管理局")).to_contain_text("按时报到")
    expect(assessment.get_by_role("row").filter(has_text="东城区城市管理综合行政执法局")).to_contain_text("3.50")
    screenshots(district, "whistle-detail")
