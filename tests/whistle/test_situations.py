"""The 45 demo situations, their upkeep through the API, and the Excel round trip."""

import io
from collections import Counter

from openpyxl import load_workbook
from sqlalchemy import func, select

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.demo.dongcheng import DEPARTMENTS, UTILITIES
from gridgov.whistle import demo, situations
from gridgov.whistle.models import WhistleSituation
from tests.cases.flow import sign_in

NAMED_IN_THE_ISSUE = {"违法建设查处", "占道经营反复回潮", "地下空间违规住人", "无物业老旧小区环境整治", "背街小巷环境提升",
                      "垃圾分类督导", "汛期积水抢险", "燃气泄漏", "树木倒伏", "大型活动保障", "无主管线井盖", "群租房整治"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_demo_has_45_situations_across_the_four_areas(whistle_world):
    document = demo.demo_document()
    assert "演示配置" in document["note"]
    with whistle_world.read() as db:
        rows = situations.list_situations(db)
        assert len(rows) == 45
        assert Counter(r.area for r in rows) == {"enforcement": 15, "key_work": 12, "emergency": 10, "fallback": 8}
        assert NAMED_IN_THE_ISSUE <= {r.name for r in rows}
        demo_units = {b.code for b in (*DEPARTMENTS, *UTILITIES)}
        for row in rows:
            assert row.demo and row.active and row.description and row.start_standard and row.legal_basis
            assert row.department_codes and set(row.department_codes) <= demo_units, row.code
            assert row.time_limit.value > 0
        limits = {r.code: str(r.time_limit) for r in rows}
        assert limits["YJ02"] == "15 分钟" and limits["ZD04"] == "5 工作日" and limits["ZF01"] == "4 工作小时"
        assert demo.load_demo_situations(db, actor=SYSTEM_ACTOR) == 0  # loading again writes nothing


def test_admins_keep_the_situations_through_the_api(api, whistle_world):
    admin, street = sign_in(api, "admin"), sign_in(api, "street")
    body = {"code": "ZF16", "area": "综合执法", "name": "违规经营性停车场", "description": "未经许可擅自设立经营性停车场",
            "start_standard": "经劝导仍继续经营的", "department_codes": ["D013", "D002"],
            "time_limit": {"value": 1, "unit": "工作日"}, "legal_basis": "《北京市机动车停车条例》第二十四条"}
    assert api.post("/api/v1/whistles/situations", headers=street, json=body).status_code == 403
    created = api.post("/api/v1/whistles/situations", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["area"] == "enforcement" and created.json()["time_limit"]["text"] == "1 工作日"
    assert api.post("/api/v1/whistles/situations", headers=admin, json=body).status_code == 409
    bad = api.put("/api/v1/whistles/situations/ZF16", headers=admin, json={
        **body, "area": "城市管理", "department_codes": ["110101001", "D013", "NOPE"],
        "time_limit": {"value": -1, "unit": "fortnights"}, "name": "违法建设查处"})
    assert bad.status_code == 422
    assert sorted(e["field"] for e in bad.json()["errors"]) == [
        "area", "department_codes", "department_codes", "name", "time_limit.unit", "time_limit.value"]
    changed = api.put("/api/v1/whistles/situations/ZF16", headers=admin,
                      json={**body, "time_limit": {"value": 4, "unit": "working_hours"}})
    assert changed.json()["time_limit"]["text"] == "4 工作小时"
    listed = api.get("/api/v1/whistles/situations", headers=street, params={"area": "enforcement"}).json()
    assert len(listed) == 16
    assert api.post("/api/v1/whistles/situations/ZF16/retire", headers=admin, json={"reason": "x"}).status_code == 200
    assert api.post("/api/v1/whistles/situations/ZF16/retire", headers=admin, json={"reason": "x"}).status_code == 409
    retired = api.get("/api/v1/whistles/situations", headers=street, params={"status": "retired"}).json()
    assert [s["code"] for s in retired] == ["ZF16"]


def test_export_then_import_changes_nothing(api, whistle_world):
    admin = sign_in(api, "admin")
    exported = api.get("/api/v1/whistles/situations/export.xlsx", headers=sign_in(api, "street"))
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
    assert sheet.title == "吹哨情形" and sheet.max_row == 46
    assert [c.value for c in sheet[1]][:3] == ["情形编码", "领域", "情形名称"]
    imported = api.post("/api/v1/whistles/situations/import", headers=admin,
                        files={"file": ("吹哨情形.xlsx", io.BytesIO(exported.content), XLSX)})
    assert imported.json() == {"created": 0, "updated": 0, "unchanged": 45}


def test_a_bad_workbook_is_refused_whole_listing_every_bad_row(api, whistle_world):
    admin = sign_in(api, "admin")
    workbook = load_workbook(io.BytesIO(api.get("/api/v1/whistles/situations/export.xlsx", headers=admin).content))
    sheet = workbook.worksheets[0]
    sheet["C2"] = "无主管线井盖（修订）"  # a good change (DD01) that must not be written
    sheet["B3"] = "城市管理"  # unknown area
    sheet["F4"] = "D011、110101001-K01"  # a street section cannot be summoned
    sheet["G5"] = -2  # a negative limit
    sheet["A6"] = sheet["A7"].value  # row 7 repeats row 6's code
    sheet.append(["ZF99", "综合执法", "新情形", None, "标准", "D002", 1, "工作日", "依据", "是", "启用"])  # no description
    buffer = io.BytesIO()
    workbook.save(buffer)
    refused = api.post("/api/v1/whistles/situations/import", headers=admin,
                       files={"file": ("bad.xlsx", io.BytesIO(buffer.getvalue()), XLSX)})
    assert refused.status_code == 422
    problems = {(e["row"], e["field"]) for e in refused.json()["errors"]}
    assert problems == {(3, "area"), (4, "department_codes"), (5, "time_limit.value"), (7, "code"),
                        (6, "name"),  # row 6 now carries DD05's name under another code
                        (47, "description")}
    assert all(e["sheet"] == "吹哨情形" and e.get("column") for e in refused.json()["errors"])
    with whistle_world.read() as db:
        assert situations.get_situation(db, code="DD01").name == "无主管线井盖"
        assert db.scalar(select(func.count()).select_from(WhistleSituation)) == 45


def test_import_retires_and_reactivates_by_status(whistle_world):
    with whistle_world.read() as db:
        workbook = load_workbook(io.BytesIO(situations.export_workbook(db)))
    sheet = workbook.worksheets[0]
    sheet["K2"] = "停用"
    buffer = io.BytesIO()
    workbook.save(buffer)
    with whistle_world.write() as db:
        report = situations.import_situations(db, actor=SYSTEM_ACTOR, data=situations.parse_workbook(buffer.getvalue()))
    assert (report.updated, report.unchanged) == (1, 44)
    with whistle_world.read() as db:
        retired = situations.get_situation(db, code=sheet["A2"].value)
        assert not retired.active and retired.retire_reason == "导入时停用"
        assert retired.code == "DD01" and situations.counts_by_area(db)["fallback"] == 7
