"""系统管理 configuration pages — grid import, catalog, duty matrix, whistle situations,
holidays, assessment weights, audit — on both backends.

The page tests share one database per backend with the other workbenches, so every change
here touches only things these tests create: new codes, the year 2031, weights from 2090 on;
the one grid import that is written goes to a database of its own."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gridgov.app import create_app
from gridgov.assessment.models import AssessmentWeightSet
from gridgov.catalog.models import DutyRuleRow
from gridgov.demo import loader
from gridgov.grid.models import GridVersion
from tests.web.admin_helpers import XLSX, all_events, error_of, events, unique, workbook
from tests.web.conftest import PageClient, csrf_of

SQUARE = [[116.40, 39.91], [116.41, 39.91], [116.41, 39.92], [116.40, 39.92], [116.40, 39.91]]
BOW_TIE = [[116.40, 39.91], [116.41, 39.92], [116.41, 39.91], [116.40, 39.92], [116.40, 39.91]]


def geojson(*features: tuple[str, list]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "coordinate_system": "gcj02", "features": [
        {"type": "Feature", "properties": {"code": code, "name": f"街道{code}", "parent_code": code[:6]},
         "geometry": {"type": "Polygon", "coordinates": [ring]}} for code, ring in features]}).encode()


def grid_versions(database) -> int:
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(GridVersion))


# --- grid ----------------------------------------------------------------------------------

def test_the_grid_page_shows_each_level_and_the_import_history(pages) -> None:
    html = pages("admin").get("/admin/grid").text
    assert "现行网格（版本 4）" in html
    for label in ("街道", "社区", "基础网格", "单元网格"):
        assert f"<td>{label}</td>" in html


def test_a_grid_file_with_errors_shows_its_report_and_writes_nothing(pages, world,
                                                                     frozen) -> None:
    frozen.now = datetime.now(UTC) + timedelta(hours=1)  # after the demo grid was loaded
    before, audited = grid_versions(world), events(world, "grid.import")
    content = geojson(("1101010019", SQUARE), ("110101099", BOW_TIE))
    response = pages("admin").post("/admin/grid/import", {"level": "street"},
                                   files={"file": ("streets.geojson", content, "application/geo+json")})
    assert response.status_code == 422
    html = response.text
    assert "校验报告：未写入任何网格" in html
    assert "<td>编码</td>" in html and "<td>几何无效</td>" in html
    assert (grid_versions(world), events(world, "grid.import")) == (before, audited)


def test_an_unlabelled_grid_file_needs_a_coordinate_system(pages, world, frozen) -> None:
    frozen.now = datetime.now(UTC) + timedelta(hours=1)
    content = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    response = pages("admin").post("/admin/grid/import", {"level": "street"},
                                   files={"file": ("streets.geojson", content, "application/json")})
    assert response.status_code == 422 and "<td>坐标系</td>" in response.text


@pytest.fixture
def empty_world_admin(database, settings) -> PageClient:
    """An admin signed in to a database with the demo organisation and no grid yet."""
    with database.write() as db:
        loader.load_demo_organisation(db)
    with database.write() as db:
        loader.load_demo_accounts(db, settings=settings)
    with TestClient(create_app(settings, database)) as client:
        response = client.post("/login", data={"username": "admin",
                                               "password": loader.DEMO_PASSWORD})
        yield PageClient(client, csrf_of(response.text))


def test_a_clean_grid_file_becomes_a_version_with_one_audit_event(empty_world_admin,
                                                                   database) -> None:
    content = geojson(("110101001", SQUARE))
    response = empty_world_admin.post(
        "/admin/grid/import", {"level": "street", "crs": "gcj02"},
        files={"file": ("streets.geojson", content, "application/geo+json")})
    assert response.status_code == 200
    assert "已导入：网格版本 1（街道）" in response.text
    assert grid_versions(database) == 1 and events(database, "grid.import", "1") == 1


# --- catalog -------------------------------------------------------------------------------

def type_form(name: str, **changes: str) -> dict:
    return {"name": name, "domain": "urban_management", "category": "event",
            "major_class": "01", "minor_class": "0101", "keywords": "测试、网页",
            "filing_condition": "发现即立案", "closing_condition": "处置完毕",
            "time_limit.value": "4", "time_limit.unit": "working_hours", "urgency": "normal",
            "default_grade": "L2", **changes}


def _new_type_code(admin) -> str:
    for number in range(90, 100):
        code = f"E0101{number:02d}"
        if admin.get(f"/admin/catalog/types/{code}").status_code == 404:
            return code
    raise AssertionError("no free test type code")


def test_the_catalog_finds_types_by_keyword(pages) -> None:
    html = pages("admin").get("/admin/catalog", params={"text": "井盖"}).text
    assert "C010101" in html and "城市管理 →" in html


def test_admin_creates_versions_and_retires_a_type(pages, world) -> None:
    admin = pages("admin")
    code = _new_type_code(admin)
    created = admin.post("/admin/catalog/types/new", {"code": code, **type_form(unique("网页事项"))},
                         follow_redirects=False)
    assert created.status_code == 303 and events(world, "catalog.type.create", code) == 1
    name = unique("网页事项")
    changed = admin.post(f"/admin/catalog/types/{code}", type_form(name, **{
        "time_limit.value": "2", "change_note": "缩短时限"}), follow_redirects=False)
    assert changed.status_code == 303 and events(world, "catalog.type.version", code) == 1
    html = admin.get(f"/admin/catalog/types/{code}").text
    assert "2 工作小时" in html and "缩短时限" in html
    retired = admin.post(f"/admin/catalog/types/{code}/retire", {"reason": "测试结束"},
                         follow_redirects=False)
    assert retired.status_code == 303 and events(world, "catalog.type.retire", code) == 1


def test_an_urgent_type_counted_in_working_hours_is_refused_beside_the_unit(pages, world) -> None:
    admin = pages("admin")
    code = _new_type_code(admin)
    response = admin.post("/admin/catalog/types/new", {"code": code, **type_form(
        unique("紧急事项"), urgency="urgent")})
    assert response.status_code == 422
    assert "自然时间" in error_of(response.text, "time_limit.unit")
    assert events(world, "catalog.type.create", code) == 0


def test_a_catalog_workbook_without_its_sheets_is_refused_with_its_report(pages) -> None:
    content = workbook(["随便"], ["一行"])
    response = pages("admin").post("/admin/catalog/import",
                                   files={"file": ("catalog.xlsx", content, XLSX)})
    assert response.status_code == 422 and "导入报告：未写入任何数据" in response.text


# --- duty matrix ---------------------------------------------------------------------------

def test_the_duty_matrix_answers_who_handles_a_type_at_a_grid(pages) -> None:
    html = pages("admin").get("/admin/duty", params={"ask_type": "C010101",
                                                     "place": "110101001001002"}).text
    assert "事项 C010101" in html and "110101001" in html


def test_an_unknown_street_is_shown_beside_the_place(pages) -> None:
    response = pages("admin").get("/admin/duty", params={"ask_type": "C010101",
                                                         "place": "999999999"})
    assert response.status_code == 422 and "不存在" in error_of(response.text, "place")


def test_admin_creates_changes_and_deactivates_a_rule(pages, world) -> None:
    admin = pages("admin")
    code = _new_type_code(admin)
    admin.post("/admin/catalog/types/new", {"code": code, **type_form(unique("规则事项"))})
    rule_id = unique("T")
    created = admin.post("/admin/duty/new", {"rule_id": rule_id, "type_code": code,
                                             "unit_code": "D001", "street_code": "110101001"},
                         follow_redirects=False)
    assert created.status_code == 303 and events(world, "catalog.rule.create", rule_id) == 1
    bad = admin.post(f"/admin/duty/{rule_id}", {"unit_code": "NOPE", "street_code": "110101001"})
    assert bad.status_code == 422 and "NOPE" in error_of(bad.text, "unit_code")
    assert events(world, "catalog.rule.update", rule_id) == 0
    gone = admin.post(f"/admin/duty/{rule_id}/deactivate", follow_redirects=False)
    assert gone.status_code == 303 and events(world, "catalog.rule.deactivate", rule_id) == 1
    with world.read() as db:
        assert db.scalar(select(DutyRuleRow.active).where(DutyRuleRow.rule_id == rule_id)) is False


# --- whistle situations --------------------------------------------------------------------

def situation_form(**changes: str) -> dict:
    return {"area": "enforcement", "name": unique("网页情形"), "description": "描述",
            "start_standard": "标准", "department_codes": "D001、D002",
            "time_limit.value": "2", "time_limit.unit": "working_hours", "legal_basis": "依据",
            **changes}


def test_admin_creates_and_retires_a_situation(pages, world) -> None:
    admin = pages("admin")
    code = unique("W")
    created = admin.post("/admin/situations/new", {"code": code, **situation_form()},
                         follow_redirects=False)
    assert created.status_code == 303 and events(world, "whistle_situation.create", code) == 1
    assert code in admin.get("/admin/situations", params={"area": "enforcement"}).text
    no_reason = admin.post(f"/admin/situations/{code}/retire", {"reason": ""})
    assert no_reason.status_code == 422 and error_of(no_reason.text, "reason") == "请填写停用原因"
    retired = admin.post(f"/admin/situations/{code}/retire", {"reason": "合并"},
                         follow_redirects=False)
    assert retired.status_code == 303 and events(world, "whistle_situation.retire", code) == 1


def test_a_street_cannot_be_summoned_to_a_situation(pages, world) -> None:
    code = unique("W")
    response = pages("admin").post("/admin/situations/new", {
        "code": code, **situation_form(department_codes="110101001")})
    assert response.status_code == 422
    assert "只能召集" in error_of(response.text, "department_codes")
    assert events(world, "whistle_situation.create", code) == 0


def test_a_situation_sheet_with_a_bad_row_is_reported(pages, world) -> None:
    headers = ["情形编码", "领域", "情形名称", "情形描述", "启动标准", "应哨部门编码", "报到时限",
               "时限单位", "法规依据", "演示配置", "状态"]
    code = unique("W")
    content = workbook(headers, [code, "火星", "名称", "描述", "标准", "D001", 2, "工作小时",
                                 "依据", "否", "启用"])
    response = pages("admin").post("/admin/situations/import",
                                   files={"file": ("situations.xlsx", content, XLSX)})
    assert response.status_code == 422 and "领域“火星”" in response.text
    assert events(world, "whistle_situation.create", code) == 0


# --- holidays ------------------------------------------------------------------------------

def test_the_calendar_of_a_covered_year_shows_its_holidays(pages) -> None:
    html = pages("admin").get("/admin/calendar", params={"year": 2026}).text
    assert "工作日历 2026 年" in html and "春节" in html and "调休上班" in html


def test_admin_sets_and_deletes_one_day(pages, world) -> None:
    admin = pages("admin")
    response = admin.post("/admin/calendar/days", {"day": "2031-03-03", "working": "false",
                                                   "note": "测试"}, follow_redirects=False)
    assert response.status_code == 303 and events(world, "calendar.override.set", "2031-03-03") >= 1
    deleted = admin.post("/admin/calendar/days/2031-03-03/delete", follow_redirects=False)
    assert deleted.status_code == 303
    assert events(world, "calendar.override.delete", "2031-03-03") >= 1


def test_a_year_without_a_weekday_holiday_cannot_be_declared(pages, world) -> None:
    admin = pages("admin")
    before = all_events(world)
    response = admin.post("/admin/calendar/arrangement", {
        "year": "2031", "rest_days": "2031-02-01~2031-02-02 周末", "declare": "true"})
    assert response.status_code == 422
    assert "周一至周五的休息日" in error_of(response.text, "rest_days")
    assert all_events(world) == before


def test_a_bad_line_of_the_arrangement_is_shown_and_nothing_is_written(pages, world) -> None:
    admin = pages("admin")
    before = all_events(world)
    response = admin.post("/admin/calendar/arrangement", {
        "year": "2031", "rest_days": "2031-01-01 元旦\n2031-13-40 不存在"})
    assert response.status_code == 422
    assert "第 2 行" in error_of(response.text, "rest_days")
    assert all_events(world) == before


def test_a_year_chinese_calendar_covers_is_not_declared(pages) -> None:
    response = pages("admin").post("/admin/calendar/declare", {"year": "2026"})
    assert response.status_code == 422 and "无需声明" in response.text


# --- assessment weights --------------------------------------------------------------------

def weight_form(month: str, **changes: str) -> dict:
    weights = {"closure_rate": "10", "on_time_closure_rate": "20", "on_time_handling_rate": "15",
               "rework_rate": "5", "return_rate": "5", "overdue_rate": "5",
               "extension_rate": "5", "forced_closure_rate": "5",
               "hotline_response_rate": "10", "hotline_resolution_rate": "10",
               "hotline_satisfaction_rate": "10"}
    return {"unit_kind": "outside_body", "valid_from": month, **weights, **changes}


def weight_sets(database) -> int:
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(AssessmentWeightSet))


def test_the_weights_page_lists_the_indicators_of_a_kind(pages) -> None:
    html = pages("admin").get("/admin/weights", params={"kind": "street"}).text
    assert "吹哨闭环率" in html and "报到响应度" not in html


def test_weights_that_do_not_sum_to_100_are_refused_beside_the_sum(pages, world) -> None:
    before = weight_sets(world)
    response = pages("admin").post("/admin/weights", weight_form("2090-01", closure_rate="15"))
    assert response.status_code == 422
    assert "合计须为 100%，现为 105" in error_of(response.text, "weights")
    assert weight_sets(world) == before


def test_a_weight_above_100_is_shown_beside_its_indicator(pages, world) -> None:
    response = pages("admin").post("/admin/weights", weight_form("2090-01", rework_rate="101"))
    assert response.status_code == 422 and "0–100" in error_of(response.text, "rework_rate")


def test_weights_summing_to_100_are_saved_with_one_audit_event(pages, world) -> None:
    before = events(world, "assessment.weights")
    response = pages("admin").post("/admin/weights", weight_form("2090-02"),
                                   follow_redirects=False)
    assert response.status_code == 303 and events(world, "assessment.weights") == before + 1
    assert "2090-02" in pages("admin").get("/admin/weights?kind=outside_body").text


# --- audit ---------------------------------------------------------------------------------

def test_the_audit_page_filters_events_and_verifies_the_chain(pages) -> None:
    admin = pages("admin")
    html = admin.get("/admin/audit", params={"action": "auth.login", "actor": "admin"}).text
    assert "<td>auth.login</td>" in html and "<td>unit.create</td>" not in html
    verified = admin.get("/admin/audit", params={"verify": "1"}).text
    assert "完整：已校验" in verified


def test_a_dispatcher_may_not_read_the_audit_trail(pages) -> None:
    assert pages("dispatcher").get("/admin/audit").status_code == 403

