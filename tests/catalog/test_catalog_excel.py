"""The catalog workbook: export → import round trip, all-or-nothing import, versions on import."""

from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from gridgov.audit.models import AuditEvent
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.catalog import excel, service
from gridgov.catalog.models import MatterTypeVersion
from gridgov.errors import InvalidInput

from .builders import export_bytes, load_demo, mini_catalog, sheet_values

CATALOG_TABLES = ("catalog_duty_rules", "catalog_type_versions", "catalog_matter_types",
                  "catalog_classes", "catalog_duty_areas", "catalog_domains")


def _import(database, content: bytes):
    with database.write() as db:
        return service.import_catalog(db, actor=SYSTEM_ACTOR, data=excel.parse_catalog(content))


def _edit(content: bytes, edits) -> bytes:
    workbook = load_workbook(BytesIO(content))
    edits(workbook)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column(sheet, header: str) -> int:
    return [cell.value for cell in sheet[1]].index(header) + 1


def test_export_has_chinese_sheets_and_headers(database):
    mini_catalog(database)
    sheets = sheet_values(export_bytes(database))
    assert list(sheets) == ["事项目录", "职责清单", "分类代码", "责任区域"]
    assert sheets["事项目录"][0][:4] == ("事项编码", "事项名称", "监管领域", "类别")
    first = dict(zip(sheets["事项目录"][0], sheets["事项目录"][1], strict=True))
    assert first["监管领域"] == "城市管理" and first["时限单位"] == "自然小时"
    assert first["紧急程度"] == "紧急" and first["大类"] == "01"
    assert sheets["职责清单"][0][0] == "规则编号" and len(sheets["职责清单"]) == 4


def test_demo_catalog_round_trips_into_the_same_and_an_empty_database(database):
    load_demo(database)
    exported = export_bytes(database)
    report = _import(database, exported)
    assert report.types_created == report.types_versioned == report.rules_created == 0
    assert report.types_unchanged >= 320 and report.rules_updated == 0
    assert sheet_values(export_bytes(database)) == sheet_values(exported)
    with database.engine.begin() as conn:
        for table in CATALOG_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
    report = _import(database, exported)
    assert report.types_created >= 320 and report.classes_written > 0 and report.areas_written == 4
    assert sheet_values(export_bytes(database)) == sheet_values(exported)


def test_a_bad_file_lists_every_bad_row_and_writes_nothing(database):
    mini_catalog(database)
    exported = export_bytes(database)

    def spoil(workbook):
        types, rules = workbook["事项目录"], workbook["职责清单"]
        types.cell(2, _column(types, "时限单位")).value = "周"
        types.cell(3, _column(types, "小类")).value = "0199"
        types.cell(4, _column(types, "事项编码")).value = "C010101"  # duplicate of row 2
        types.cell(4, _column(types, "处置时限")).value = "四小时"
        rules.cell(2, _column(rules, "责任单位编码")).value = "NOPE"
        rules.cell(3, _column(rules, "事项编码")).value = "C999999"
        rules.cell(4, _column(rules, "启用")).value = "也许"

    before = _counts(database)
    with pytest.raises(InvalidInput) as caught:
        _import(database, _edit(exported, spoil))
    errors = caught.value.errors
    where = {(e["sheet"], e["row"], e["column"]) for e in errors}
    assert {("事项目录", 2, "时限单位"), ("事项目录", 3, "小类"), ("事项目录", 4, "事项编码"),
            ("事项目录", 4, "处置时限"), ("职责清单", 2, "责任单位编码"),
            ("职责清单", 3, "事项编码"), ("职责清单", 4, "启用")} <= where
    assert all(e["message"] for e in errors)
    assert "未写入任何数据" in caught.value.detail
    assert _counts(database) == before


def _counts(database) -> tuple[int, int]:
    with database.read() as db:
        return (db.scalar(select(func.count()).select_from(MatterTypeVersion)),
                db.scalar(select(func.count()).select_from(AuditEvent)))


def test_a_missing_sheet_or_column_is_refused(database):
    mini_catalog(database)
    exported = export_bytes(database)
    with pytest.raises(InvalidInput) as caught:
        _import(database, _edit(exported, lambda wb: wb.remove(wb["职责清单"])))
    assert "缺少工作表“职责清单”" in caught.value.errors[0]["message"]
    with pytest.raises(InvalidInput) as caught:
        _import(database, _edit(exported, lambda wb: wb["事项目录"].delete_cols(3)))
    assert caught.value.errors[0]["column"] == "监管领域"
    with pytest.raises(InvalidInput, match="不是有效的 Excel"):
        _import(database, b"not a workbook")


def test_a_changed_time_limit_in_the_sheet_makes_a_new_version(database):
    mini_catalog(database)

    def change(workbook):
        types = workbook["事项目录"]
        row = next(r for r in range(2, types.max_row + 1) if types.cell(r, 1).value == "E010201")
        types.cell(row, _column(types, "处置时限")).value = 6

    with database.read() as db:
        old = service.get_type(db, code="E010201")
    report = _import(database, _edit(export_bytes(database), change))
    assert (report.types_versioned, report.types_unchanged) == (1, 2)
    with database.read() as db:
        new = service.get_type(db, code="E010201")
        assert service.get_version(db, version_id=old.id).time_limit.value == 4
    assert new.id != old.id and new.time_limit.value == 6


def test_labels_codes_and_number_cells_are_all_accepted(database):
    mini_catalog(database)

    def recode(workbook):
        types = workbook["事项目录"]
        for row in range(2, types.max_row + 1):
            types.cell(row, _column(types, "监管领域")).value = "urban_management"
            types.cell(row, _column(types, "大类")).value = 1  # Excel ate the leading zero
            if types.cell(row, _column(types, "时限单位")).value == "自然小时":
                types.cell(row, _column(types, "时限单位")).value = "natural_hours"
            types.cell(row, _column(types, "关键词")).value = \
                types.cell(row, _column(types, "关键词")).value.replace("、", "，")

    report = _import(database, _edit(export_bytes(database), recode))
    assert report.types_unchanged == 3 and report.types_versioned == 0
