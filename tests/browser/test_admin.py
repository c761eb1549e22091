"""系统管理 in a real browser: an administrator creates a user, enters a 2027 holiday, saves
assessment weights (refused until they sum to 100), and sees a grid file's validation report."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from gridgov import clock
from tests.browser.conftest import screenshots, sign_in


def test_admin_creates_a_user(page: Page) -> None:
    sign_in(page, "admin")
    page.get_by_role("link", name="系统管理").first.click()
    page.get_by_role("navigation", name="系统管理").get_by_role("link", name="用户").click()
    page.get_by_role("link", name="新建用户").click()
    name = f"web{uuid.uuid4().hex[:6]}"
    page.get_by_label("用户名").fill(name)
    page.get_by_label("姓名").fill("张晓")
    page.get_by_label("初始密码").fill("short")
    page.get_by_label("所属单位").select_option("110101001-FZX")
    expect(page.get_by_label("派遣员/值班长")).to_be_disabled()  # not held in a sub-centre
    page.get_by_label("受理员").check()
    page.get_by_role("button", name="创建用户").click()
    expect(page.locator("#password-error")).to_contain_text("至少 10 位")
    page.get_by_label("初始密码").fill("Password2026x")
    page.get_by_role("button", name="创建用户").click()
    expect(page.locator(".alert-ok")).to_contain_text("已创建")
    expect(page.get_by_role("heading", name=f"用户 {name}")).to_be_visible()
    page.goto("/admin/users")
    screenshots(page, "admin-users")


def test_admin_enters_a_2027_holiday(page: Page) -> None:
    sign_in(page, "admin")
    page.goto("/admin/calendar?year=2027")
    expect(page.get_by_role("alert")).to_contain_text("不在 chinese-calendar 的覆盖范围")
    one_day = page.get_by_role("region", name="补录或更正一天")
    one_day.get_by_label("日期").fill("2027-10-01")
    one_day.get_by_label("这一天是").select_option("false")
    one_day.get_by_label("说明").fill("2027年国庆节")
    one_day.get_by_role("button", name="保存调整").click()
    expect(page.locator(".alert-ok")).to_contain_text("已保存")
    expect(page.get_by_role("cell", name="2027年国庆节")).to_be_visible()
    screenshots(page, "admin-calendar")


def test_admin_weights_must_sum_to_100(page: Page) -> None:
    sign_in(page, "admin")
    page.goto("/admin/weights?kind=outside_body")
    page.get_by_label("自哪个月起").fill("2027-01")
    page.get_by_label("结案率", exact=True).fill("30")
    expect(page.locator("[data-weight-sum]")).to_have_text("120")
    page.get_by_role("button", name="保存权重").click()
    expect(page.locator("#weights-error")).to_contain_text("合计须为 100%，现为 120")
    page.get_by_label("结案率", exact=True).fill("10")
    page.get_by_role("button", name="保存权重").click()
    expect(page.locator(".alert-ok")).to_contain_text("已保存")
    expect(page.get_by_role("cell", name="2027-01")).to_be_visible()


def test_admin_sees_the_validation_report_of_a_bad_grid_file(
        page: Page, monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo grid was loaded at the real time, after the server's pinned start: a new
    # version may not take effect before it, so the server's clock moves past it here.
    monkeypatch.setattr(clock, "utcnow", lambda: datetime.now(UTC) + timedelta(hours=1))
    sign_in(page, "admin")
    page.goto("/admin/grid")
    bow_tie = [[116.40, 39.91], [116.41, 39.92], [116.41, 39.91], [116.40, 39.92], [116.40, 39.91]]
    content = json.dumps({"type": "FeatureCollection", "coordinate_system": "gcj02", "features": [
        {"type": "Feature", "properties": {"code": "110101001", "name": "东华门街道",
                                           "parent_code": "110101"},
         "geometry": {"type": "Polygon", "coordinates": [bow_tie]}}]})
    upload = page.get_by_role("region", name="导入一个层级")
    upload.get_by_label("层级").select_option("street")
    upload.get_by_label("GeoJSON 文件").set_input_files(files=[{
        "name": "streets.geojson", "mimeType": "application/geo+json",
        "buffer": content.encode()}])
    upload.get_by_role("button", name="校验并导入").click()
    expect(page.get_by_role("heading", name="校验报告：未写入任何网格")).to_be_visible()
    expect(page.get_by_role("cell", name="几何无效", exact=True)).to_be_visible()
    screenshots(page, "admin-grid-import")
