"""Organisation units as an Excel sheet (组织机构), both ways."""

from collections.abc import Sequence

from pydantic import ValidationError

from gridgov.excel import SheetSpec, as_date, read_rows, write_workbook
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.org.schemas import UnitIn

HEADERS = ("编码", "名称", "简称", "类型", "上级编码", "服务街道编码", "生效日期", "失效日期")
_FIELDS = dict(zip(HEADERS, ("code", "name", "short_name", "kind", "parent_code",
                             "serves_street_code", "valid_from", "valid_to"), strict=True))
REQUIRED_HEADERS = ("编码", "名称", "类型", "上级编码", "生效日期")


def export_units(units: Sequence[Unit]) -> bytes:
    rows = (
        (u.code, u.name, u.short_name, UnitKind(u.kind).label, u.parent.code if u.parent else None,
         u.serves_street.code if u.serves_street else None, u.valid_from, u.valid_to)
        for u in units
    )
    return write_workbook([SheetSpec("组织机构", HEADERS, rows,
                                     {"生效日期": "yyyy-mm-dd", "失效日期": "yyyy-mm-dd"})])


def parse_units(content: bytes) -> tuple[list[tuple[int, UnitIn]], list[dict]]:
    """The well-formed rows as UnitIn, and a problem for every bad cell of the other rows.

    The import service checks the well-formed rows against the tree too, and refuses the
    whole sheet listing both kinds of problem."""
    parsed: list[tuple[int, UnitIn]] = []
    problems: list[dict] = []
    for line, row in read_rows(content, required_headers=REQUIRED_HEADERS):
        values = {_FIELDS[h]: row.get(h) for h in HEADERS}
        row_problems = []
        try:
            values["kind"] = UnitKind.from_label(str(values["kind"] or ""))
        except ValueError:
            row_problems.append(("类型", f"未知的单位类型：{values['kind']}"))
        for header in ("生效日期", "失效日期"):
            try:
                values[_FIELDS[header]] = as_date(values[_FIELDS[header]])
            except ValueError:
                row_problems.append((header, f"日期格式应为 YYYY-MM-DD：{row.get(header)}"))
        for key in ("code", "parent_code", "serves_street_code", "name", "short_name"):
            if values[key] is not None:
                values[key] = str(values[key])
        if not row_problems:
            try:
                parsed.append((line, UnitIn(**values)))
                continue
            except ValidationError as exc:
                header_of = {v: k for k, v in _FIELDS.items()}
                row_problems.extend(
                    (header_of.get(str(e["loc"][0]), str(e["loc"][0])), e["msg"]) for e in exc.errors()
                )
        problems.extend({"row": line, "code": row.get("编码"), "field": field, "message": message}
                        for field, message in row_problems)
    return parsed, problems
