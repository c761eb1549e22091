"""Excel workbooks in and out: Chinese headers, frozen header row, typed cells.

Readers return each data row as a dict keyed by header with its sheet row number, so that
importers can list every bad row; writers produce files that open cleanly in Excel and WPS.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Any
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from gridgov.errors import InvalidInput

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class SheetSpec:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    number_formats: dict[str, str] | None = None  # header -> Excel number format


def write_workbook(sheets: Sequence[SheetSpec]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec in sheets:
        sheet = workbook.create_sheet(spec.title[:31])
        sheet.append(list(spec.headers))
        for cell in sheet[1]:
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            cell.alignment = Alignment(horizontal="center")
        for row in spec.rows:
            sheet.append(list(row))
        sheet.freeze_panes = "A2"
        for index, header in enumerate(spec.headers, start=1):
            letter = get_column_letter(index)
            widest = max((len(str(c.value)) for c in sheet[letter] if c.value is not None), default=4)
            sheet.column_dimensions[letter].width = min(max(widest * 2 + 2, 8), 60)
            if spec.number_formats and header in spec.number_formats:
                for cell in sheet[letter][1:]:
                    cell.number_format = spec.number_formats[header]
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_rows(content: bytes, *, required_headers: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of the first sheet as (sheet row number, {header: value}); blank rows skipped."""
    try:
        workbook = load_workbook(BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidInput("不是有效的 Excel (.xlsx) 文件") from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header_row = next(rows, None)
    headers = [str(h).strip() if h is not None else "" for h in (header_row or ())]
    missing = [h for h in required_headers if h not in headers]
    if missing:
        raise InvalidInput(
            "缺少列：" + "、".join(missing),
            errors=[{"row": 1, "field": h, "message": "缺少此列"} for h in missing],
        )
    for number, values in enumerate(rows, start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        yield number, {h: _clean(v) for h, v in zip(headers, values, strict=False) if h}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def as_date(value: Any) -> date | None:
    """A date from a date cell or an ISO text cell; ValueError on anything else."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
