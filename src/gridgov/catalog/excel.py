"""The catalog as an Excel workbook, both ways.

Sheets: 事项目录 (the types in force) and 职责清单 (every duty rule) are required on import;
分类代码 (major and minor classes) and 责任区域 (named areas of duty rules) are exported too and
imported when present, so that an export loads into an empty database. Columns whose header
ends in “（参考）” are for people and ignored on import. Values are written as Chinese labels
(城市管理, 部件, 工作小时, 紧急, 是/否); import accepts the labels or the codes.
"""

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from io import BytesIO
from typing import Any
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from gridgov.calendar.rules import LimitUnit
from gridgov.catalog.rules import CATEGORY_NAMES, DOMAIN_NAMES
from gridgov.catalog.service import CatalogInput, CatalogSnapshot, SourceRow
from gridgov.errors import InvalidInput
from gridgov.excel import SheetSpec, write_workbook

TYPES_SHEET = "事项目录"
RULES_SHEET = "职责清单"
CLASSES_SHEET = "分类代码"
AREAS_SHEET = "责任区域"
REFERENCE = "（参考）"

TYPE_COLUMNS = {
    "code": "事项编码", "name": "事项名称", "domain": "监管领域", "category": "类别",
    "major_class": "大类", "minor_class": "小类", "keywords": "关键词",
    "filing_condition": "立案条件", "closing_condition": "结案条件",
    "time_limit.value": "处置时限", "time_limit.unit": "时限单位", "urgency": "紧急程度",
    "default_grade": "默认分级",
}
TYPE_EXTRA = ("版本" + REFERENCE,)
RULE_COLUMNS = {
    "id": "规则编号", "type_code": "事项编码", "street_code": "街道编码",
    "owner_code": "权属单位编码", "area": "区域", "unit_code": "责任单位编码",
    "per_street_field_unit": "派至所在街道派出机构", "note": "说明", "active": "启用",
}
RULE_EXTRA = ("事项名称" + REFERENCE, "责任单位名称" + REFERENCE)
CLASS_COLUMNS = {
    "domain": "监管领域", "category": "类别", "code": "分类编码", "name": "分类名称",
    "major_code": "所属大类", "source": "来源",
}
AREA_COLUMNS = {"name": "区域名称", "street_code": "所在街道编码", "note": "说明"}

URGENCY_LABELS = {"normal": "一般", "urgent": "紧急"}
LIMIT_UNIT_LABELS = {
    "working_hours": "工作小时", "working_days": "工作日",
    "natural_hours": "自然小时", "natural_minutes": "自然分钟",
}
_KEYWORD_SPLIT = re.compile(r"[、,，;；\n]+")
_TEXT = "@"


def _from_label(value: Any, labels: Mapping[str, str], *extra: Mapping[str, str]) -> Any:
    """The code of a Chinese label (or the code itself); anything else unchanged, for the
    validation to report in its own words."""
    if not isinstance(value, str):
        return value
    for mapping in (labels, *extra):
        for code, label in mapping.items():
            if value in (code, label):
                return code
    return value


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _number(value: str) -> int | float:
    amount = Decimal(value)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


# --- export ------------------------------------------------------------------------------

def export_catalog(snapshot: CatalogSnapshot) -> bytes:
    types = (
        (v.code, v.name, DOMAIN_NAMES[v.domain], CATEGORY_NAMES[v.category], v.major_class,
         v.minor_class, "、".join(v.keywords), v.filing_condition, v.closing_condition,
         _number(v.limit_value), LIMIT_UNIT_LABELS.get(v.limit_unit, v.limit_unit),
         URGENCY_LABELS.get(v.urgency, v.urgency), v.default_grade, v.version)
        for v in snapshot.types
    )
    rules = (
        (r.rule_id, r.type_code, r.street_code, r.owner_code, r.area, r.unit_code,
         _yes_no(r.per_street_field_unit), r.note or None, _yes_no(r.active),
         snapshot.type_names.get(r.type_code), snapshot.unit_names.get(r.unit_code))
        for r in snapshot.rules
    )
    classes = (
        (DOMAIN_NAMES[c.domain], CATEGORY_NAMES[c.category], c.code, c.name, c.major_code,
         c.source or None)
        for c in snapshot.classes
    )
    areas = ((a.name, a.street_code, a.note or None) for a in snapshot.areas)
    text = {header: _TEXT for header in ("事项编码", "大类", "小类", "规则编号", "街道编码",
                                         "权属单位编码", "责任单位编码", "分类编码", "所属大类",
                                         "所在街道编码")}
    return write_workbook([
        SheetSpec(TYPES_SHEET, (*TYPE_COLUMNS.values(), *TYPE_EXTRA), types, text),
        SheetSpec(RULES_SHEET, (*RULE_COLUMNS.values(), *RULE_EXTRA), rules, text),
        SheetSpec(CLASSES_SHEET, tuple(CLASS_COLUMNS.values()), classes, text),
        SheetSpec(AREAS_SHEET, tuple(AREA_COLUMNS.values()), areas, text),
    ])


# --- import ------------------------------------------------------------------------------

def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _code(value: Any, width: int | None = None) -> Any:
    """A code cell as text: Excel may have turned "01" into the number 1."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:0{width}d}" if width else str(value)
    return value


def _rows(workbook: Any, title: str, columns: Mapping[str, str], *, required: bool,
          problems: list[dict]) -> Iterator[tuple[int, dict[str, Any]]]:
    if title not in workbook.sheetnames:
        if required:
            problems.append({"sheet": title, "row": None, "field": None,
                             "message": f"缺少工作表“{title}”"})
        return
    rows = workbook[title].iter_rows(values_only=True)
    header_row = next(rows, None) or ()
    headers = [str(h).strip() if h is not None else "" for h in header_row]
    missing = [h for h in columns.values() if h not in headers]
    if missing:
        problems.extend({"sheet": title, "row": 1, "field": None, "column": h,
                         "message": f"缺少列“{h}”"} for h in missing)
        return
    field_of = {header: name for name, header in columns.items()}
    for number, values in enumerate(rows, start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        yield number, {field_of[h]: _clean(v)
                       for h, v in zip(headers, values, strict=False) if h in field_of}


def parse_catalog(content: bytes) -> CatalogInput:
    """Every row of the workbook, with labels turned into codes; the import service checks
    them all and refuses the file listing every problem."""
    try:
        workbook = load_workbook(BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput("不是有效的 Excel (.xlsx) 文件") from exc
    found = CatalogInput()
    try:
        for number, row in _rows(workbook, CLASSES_SHEET, CLASS_COLUMNS, required=False,
                                 problems=found.problems):
            row["domain"] = _from_label(row["domain"], DOMAIN_NAMES)
            row["category"] = _from_label(row["category"], CATEGORY_NAMES)
            code = row["code"]
            row["code"] = _code(code, 4 if isinstance(code, int) and code >= 100 else 2)
            row["major_code"] = _code(row["major_code"], 2)
            found.classes.append(SourceRow(CLASSES_SHEET, number, row, CLASS_COLUMNS))
        for number, row in _rows(workbook, AREAS_SHEET, AREA_COLUMNS, required=False,
                                 problems=found.problems):
            row["street_code"] = _code(row["street_code"])
            row["name"] = _code(row["name"])
            found.areas.append(SourceRow(AREAS_SHEET, number, row, AREA_COLUMNS))
        for number, row in _rows(workbook, TYPES_SHEET, TYPE_COLUMNS, required=True,
                                 problems=found.problems):
            found.types.append(SourceRow(TYPES_SHEET, number, _type_row(row), TYPE_COLUMNS))
        for number, row in _rows(workbook, RULES_SHEET, RULE_COLUMNS, required=True,
                                 problems=found.problems):
            for key in ("id", "type_code", "street_code", "owner_code", "unit_code", "area"):
                row[key] = _code(row[key])
            found.rules.append(SourceRow(RULES_SHEET, number, row, RULE_COLUMNS))
    finally:
        workbook.close()
    return found


def _type_row(row: dict[str, Any]) -> dict[str, Any]:
    keywords = row.pop("keywords")
    if isinstance(keywords, str):
        keywords = [word.strip() for word in _KEYWORD_SPLIT.split(keywords) if word.strip()]
    elif keywords is not None:
        keywords = [str(keywords)]
    unit = _from_label(row.pop("time_limit.unit"), LIMIT_UNIT_LABELS,
                       {unit.value: unit.label for unit in LimitUnit})
    value = row.pop("time_limit.value")
    return {
        **row,
        "code": _code(row["code"]),
        "domain": _from_label(row["domain"], DOMAIN_NAMES),
        "category": _from_label(row["category"], CATEGORY_NAMES),
        "major_class": _code(row["major_class"], 2),
        "minor_class": _code(row["minor_class"], 4),
        "urgency": _from_label(row["urgency"], URGENCY_LABELS),
        "keywords": keywords,
        "time_limit": {"value": value, "unit": unit},
    }

