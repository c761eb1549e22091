"""The whistle situations (情形和标准): listing, admin changes, and the Excel workbook both ways.

Every write checks all its rows first and refuses the whole change listing every problem
(sheet, row, code, field, message); otherwise it writes new and changed rows, each with an
audit event, and commits once. Unchanged rows write nothing, so an export imports back as
"nothing changed". A situation is never deleted: it is retired (`active` false, with a
reason) and stays readable on the whistles that used it.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.audit import service as audit
from gridgov.audit.rules import Actor
from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.errors import Conflict, InvalidInput, NotFound
from gridgov.excel import SheetSpec, read_rows, write_workbook
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.whistle.models import WhistleSituation
from gridgov.whistle.rules import AREA_LABELS, SUMMONABLE_KINDS, Area
from gridgov.whistle.schemas import SituationBody, SituationImportReport, SituationIn, SituationOut, UnitBrief

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{2,16}$")
TEXT_LIMITS = {"name": 100, "description": 4000, "start_standard": 4000, "legal_basis": 4000}
_WRITE_LOCK_KEY = 0x77686973  # "whis": serialises situation writes on PostgreSQL

SHEET = "吹哨情形"
COLUMNS = {
    "code": "情形编码", "area": "领域", "name": "情形名称", "description": "情形描述",
    "start_standard": "启动标准", "department_codes": "应哨部门编码", "time_limit.value": "报到时限",
    "time_limit.unit": "时限单位", "legal_basis": "法规依据", "demo": "演示配置", "active": "状态",
}
REFERENCE_COLUMNS = ("应哨部门名称（参考）",)
UNIT_LABELS = {
    LimitUnit.NATURAL_MINUTES: "自然分钟", LimitUnit.NATURAL_HOURS: "自然小时",
    LimitUnit.NATURAL_DAYS: "自然日", LimitUnit.WORKING_MINUTES: "工作分钟",
    LimitUnit.WORKING_HOURS: "工作小时", LimitUnit.WORKING_DAYS: "工作日",
}
_SPLIT = re.compile(r"[、,，;；\s]+")
ACTIVE_YES = ("启用", "是", "true", "1", "active")
ACTIVE_NO = ("停用", "否", "false", "0", "retired")


# --- reading -----------------------------------------------------------------------------

def get_situation(db: Session, *, code: str) -> WhistleSituation:
    situation = db.scalar(select(WhistleSituation).where(WhistleSituation.code == code))
    if situation is None:
        raise NotFound(f"吹哨情形 {code} 不存在")
    return situation


def list_situations(db: Session, *, area: str | None = None, status: str = "current",
                    text: str | None = None) -> list[WhistleSituation]:
    """By code; `status`: current | retired | all."""
    query = select(WhistleSituation).order_by(WhistleSituation.code)
    if status == "current":
        query = query.where(WhistleSituation.active.is_(True))
    elif status == "retired":
        query = query.where(WhistleSituation.active.is_(False))
    elif status != "all":
        raise InvalidInput(f"状态“{status}”应为 current、retired 或 all")
    if area is not None:
        parsed = Area.parse(area)
        if parsed is None:
            raise InvalidInput(f"领域“{area}”应为 {'、'.join(AREA_LABELS.values())} 之一")
        query = query.where(WhistleSituation.area == parsed)
    if text:
        pattern = f"%{text}%"
        query = query.where(WhistleSituation.name.like(pattern) | WhistleSituation.code.like(pattern)
                            | WhistleSituation.description.like(pattern))
    return list(db.scalars(query))


def _units(db: Session, codes: Iterable[str]) -> dict[str, Unit]:
    wanted = set(codes)
    return {u.code: u for u in db.scalars(select(Unit).where(Unit.code.in_(wanted)))} if wanted else {}


def limit_text(value: str, unit: str) -> str:
    return str(TimeLimit(Decimal(value), LimitUnit(unit)))


def situation_out(db: Session, situation: WhistleSituation, *,
                  units: Mapping[str, Unit] | None = None) -> SituationOut:
    units = units if units is not None else _units(db, situation.department_codes)
    departments = [UnitBrief(code=code, name=units[code].name, kind=units[code].kind)
                   for code in situation.department_codes if code in units]
    return SituationOut(
        id=situation.id, code=situation.code, area=situation.area, area_label=Area(situation.area).label,
        name=situation.name, description=situation.description, start_standard=situation.start_standard,
        departments=departments,
        time_limit={"value": float(Decimal(situation.limit_value)), "unit": situation.limit_unit,
                    "text": limit_text(situation.limit_value, situation.limit_unit)},
        legal_basis=situation.legal_basis, demo=situation.demo, active=situation.active,
        retired_at=situation.retired_at, retire_reason=situation.retire_reason)


def situations_out(db: Session, situations: Sequence[WhistleSituation]) -> list[SituationOut]:
    units = _units(db, {code for s in situations for code in s.department_codes})
    return [situation_out(db, s, units=units) for s in situations]


# --- validating --------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceRow:
    """A row to write, with where it came from: a sheet and its row number, or the API."""

    sheet: str
    row: int | None
    data: dict[str, Any]

    def problem(self, field_name: str, message: str) -> dict[str, Any]:
        found: dict[str, Any] = {"sheet": self.sheet, "row": self.row, "code": self.data.get("code"),
                                 "field": field_name, "message": message}
        column = COLUMNS.get(field_name)
        if column:
            found["column"] = column
        return found


@dataclass
class SituationInput:
    rows: list[SourceRow] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)  # found while parsing


def _limit_value(value: Any) -> str | None:
    """The canonical text of a positive number ("30", "0.5"); None if it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0 or amount > 100_000:
        return None
    return f"{amount.normalize():f}"


def _limit_unit(value: Any) -> LimitUnit | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    for unit in LimitUnit:
        if text in (unit.value, unit.label, UNIT_LABELS[unit]):
            return unit
    return None


def _bool(value: Any, *, yes: tuple[str, ...], no: tuple[str, ...], default: bool) -> bool | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in yes:
        return True
    if text in no:
        return False
    return None


@dataclass(frozen=True)
class _Content:
    """A validated situation, as stored."""

    code: str
    area: Area
    name: str
    description: str
    start_standard: str
    department_codes: tuple[str, ...]
    limit_value: str
    limit_unit: str
    legal_basis: str
    demo: bool
    active: bool

    def compare(self) -> dict[str, Any]:
        return {"area": self.area.value, "name": self.name, "description": self.description,
                "start_standard": self.start_standard, "department_codes": list(self.department_codes),
                "limit_value": self.limit_value, "limit_unit": self.limit_unit,
                "legal_basis": self.legal_basis, "demo": self.demo, "active": self.active}


def stored_content(situation: WhistleSituation) -> dict[str, Any]:
    return {"area": situation.area, "name": situation.name, "description": situation.description,
            "start_standard": situation.start_standard, "department_codes": list(situation.department_codes),
            "limit_value": situation.limit_value, "limit_unit": situation.limit_unit,
            "legal_basis": situation.legal_basis, "demo": situation.demo, "active": situation.active}


def _check_row(source: SourceRow, units: Mapping[str, Unit]) -> tuple[_Content | None, list[dict]]:
    data, problems = source.data, []

    def add(field_name: str, message: str) -> None:
        problems.append(source.problem(field_name, message))

    code = data.get("code")
    if not isinstance(code, str) or not CODE_PATTERN.match(code.strip()):
        add("code", f"情形编码“{code}”应为 2–16 位字母、数字、- 或 _")
    area = Area.parse(data.get("area"))
    if area is None:
        add("area", f"领域“{data.get('area')}”应为 {'、'.join(AREA_LABELS.values())} 之一")
    texts = {}
    for name, limit in TEXT_LIMITS.items():
        value = data.get(name)
        value = value.strip() if isinstance(value, str) else value
        if not isinstance(value, str) or not value:
            add(name, "必填")
        elif len(value) > limit:
            add(name, f"不能超过 {limit} 个字符")
        texts[name] = value
    codes = data.get("department_codes")
    if isinstance(codes, str):
        codes = [c for c in _SPLIT.split(codes) if c]
    if not isinstance(codes, list | tuple) or not codes:
        add("department_codes", "至少列出一个通常应哨的部门")
        codes = []
    seen: set[str] = set()
    today = clock.utcnow().date()
    for unit_code in codes:
        unit_code = str(unit_code).strip()
        unit = units.get(unit_code)
        if unit_code in seen:
            add("department_codes", f"部门 {unit_code} 重复")
        elif unit is None:
            add("department_codes", f"单位 {unit_code} 不存在")
        elif UnitKind(unit.kind) not in SUMMONABLE_KINDS:
            add("department_codes", f"{unit_code} {unit.name}是{UnitKind(unit.kind).label}，"
                "只能召集职能部门、派出机构或社会单位")
        elif not unit.validity.active_on(today):
            add("department_codes", f"单位 {unit_code} 已停用")
        seen.add(unit_code)
    limit = data.get("time_limit") if isinstance(data.get("time_limit"), Mapping) else {}
    value, unit = _limit_value(limit.get("value")), _limit_unit(limit.get("unit"))
    if value is None:
        add("time_limit.value", f"报到时限“{limit.get('value')}”应为正数")
    if unit is None:
        add("time_limit.unit", f"时限单位“{limit.get('unit')}”应为 {'、'.join(UNIT_LABELS.values())} 之一")
    demo = _bool(data.get("demo"), yes=("是", "true", "1", "yes", "y"), no=("否", "false", "0", "no", "n"),
                 default=False)
    if demo is None:
        add("demo", f"演示配置“{data.get('demo')}”应为 是 或 否")
    active = _bool(data.get("active"), yes=ACTIVE_YES, no=ACTIVE_NO, default=True)
    if active is None:
        add("active", f"状态“{data.get('active')}”应为 启用 或 停用")
    if problems:
        return None, problems
    return _Content(code=code.strip(), area=area, name=texts["name"], description=texts["description"],
                    start_standard=texts["start_standard"],
                    department_codes=tuple(str(c).strip() for c in codes), limit_value=value,
                    limit_unit=unit.value, legal_basis=texts["legal_basis"], demo=demo, active=active), []


def _clean(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _active(row: SourceRow) -> bool:
    return _bool(row.data.get("active"), yes=ACTIVE_YES, no=ACTIVE_NO, default=True) is not False


def _serialise_writes(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK_KEY})


def _check_all(db: Session, rows: Sequence[SourceRow], problems: list[dict]) -> list[_Content]:
    """Every row checked against the units and the situations in the database; raises listing
    every problem (and any found while parsing), or returns the rows' contents."""
    problems = list(problems)
    wanted = set()
    for row in rows:
        codes = row.data.get("department_codes")
        if isinstance(codes, str):
            codes = _SPLIT.split(codes)
        wanted |= {str(c).strip() for c in codes or () if str(c).strip()}
    units = _units(db, wanted)
    contents: list[tuple[SourceRow, _Content]] = []
    for row in rows:
        content, found = _check_row(row, units)
        problems += found
        if content is not None:
            contents.append((row, content))
    # Duplicates and names taken are checked on every row, valid or not, so that one answer
    # lists every problem.
    codes_here: dict[str, SourceRow] = {}
    names_here: dict[str, SourceRow] = {}
    for row in rows:
        code, name = _clean(row.data.get("code")), _clean(row.data.get("name"))
        if isinstance(code, str) and code:
            if code in codes_here:
                problems.append(row.problem("code", f"情形编码 {code} 与第 {codes_here[code].row} 行重复"))
            codes_here.setdefault(code, row)
        if isinstance(name, str) and name and _active(row):
            if name in names_here:
                problems.append(row.problem("name", f"情形名称“{name}”与第 {names_here[name].row} 行重复"))
            names_here.setdefault(name, row)
    taken = {name: code for code, name in db.execute(
        select(WhistleSituation.code, WhistleSituation.name).where(WhistleSituation.active.is_(True)))}
    for name, row in names_here.items():
        other = taken.get(name)
        if other is not None and other != _clean(row.data.get("code")) and other not in codes_here:
            problems.append(row.problem("name", f"情形名称“{name}”已被现行情形 {other} 使用"))
    if problems:
        raise InvalidInput(f"吹哨情形有 {len(problems)} 处错误，未写入任何情形", errors=problems)
    return [content for _, content in contents]


def _write(db: Session, *, actor: Actor, content: _Content, existing: WhistleSituation | None,
           reason: str | None = None) -> tuple[WhistleSituation, str]:
    """Create or change one situation with its audit event: ("created" | "updated" | "unchanged")."""
    now = clock.utcnow()
    if existing is None:
        situation = WhistleSituation(code=content.code, created_at=now, updated_at=now)
        before = None
    else:
        situation = existing
        before = stored_content(existing)
        if before == content.compare():
            return existing, "unchanged"
    situation.area, situation.name, situation.description = content.area, content.name, content.description
    situation.start_standard = content.start_standard
    situation.department_codes = list(content.department_codes)
    situation.limit_value, situation.limit_unit = content.limit_value, content.limit_unit
    situation.legal_basis, situation.demo = content.legal_basis, content.demo
    if content.active and not situation.active:
        situation.retired_at, situation.retire_reason = None, None
    elif not content.active and (existing is None or situation.active):
        situation.retired_at, situation.retire_reason = now, reason or "导入时停用"
    situation.active = content.active
    situation.updated_at = now
    if existing is None:
        db.add(situation)
    db.flush()
    action = "created" if existing is None else "updated"
    audit.record(db, actor=actor, action=f"whistle_situation.{'create' if existing is None else 'update'}",
                 object_type="whistle_situation", object_id=situation.code, before=before,
                 after=content.compare(), reason=reason)
    return situation, action


def import_situations(db: Session, *, actor: Actor, data: SituationInput) -> SituationImportReport:
    """All rows or none (see the module docstring); situations not in the file are left alone."""
    _serialise_writes(db)
    contents = _check_all(db, data.rows, data.problems)
    existing = {s.code: s for s in db.scalars(select(WhistleSituation).where(
        WhistleSituation.code.in_([c.code for c in contents])))}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for content in contents:
        _, what = _write(db, actor=actor, content=content, existing=existing.get(content.code))
        counts[what] += 1
    db.commit()
    return SituationImportReport(**counts)


def _api_row(code: str, body: SituationBody) -> SourceRow:
    data = body.model_dump()
    data["code"] = code
    return SourceRow("api", None, data)


def create_situation(db: Session, *, actor: Actor, data: SituationIn) -> WhistleSituation:
    _serialise_writes(db)
    if db.scalar(select(WhistleSituation.id).where(WhistleSituation.code == data.code)) is not None:
        raise Conflict(f"吹哨情形 {data.code} 已存在")
    (content,) = _check_all(db, [_api_row(data.code, data)], [])
    situation, _ = _write(db, actor=actor, content=content, existing=None)
    db.commit()
    return situation


def update_situation(db: Session, *, actor: Actor, code: str, data: SituationBody) -> WhistleSituation:
    _serialise_writes(db)
    existing = get_situation(db, code=code)
    (content,) = _check_all(db, [_api_row(code, data)], [])
    situation, _ = _write(db, actor=actor, content=content, existing=existing)
    db.commit()
    return situation


def retire_situation(db: Session, *, actor: Actor, code: str, reason: str) -> WhistleSituation:
    """No new whistle may use it; whistles that used it keep showing it."""
    _serialise_writes(db)
    situation = get_situation(db, code=code)
    if not situation.active:
        raise Conflict(f"吹哨情形 {code} 已停用")
    situation.active, situation.retired_at, situation.retire_reason = False, clock.utcnow(), reason
    situation.updated_at = situation.retired_at
    audit.record(db, actor=actor, action="whistle_situation.retire", object_type="whistle_situation",
                 object_id=code, before={"active": True}, after={"active": False}, reason=reason)
    db.commit()
    return situation


def counts_by_area(db: Session) -> dict[str, int]:
    rows = dict(db.execute(select(WhistleSituation.area, func.count()).where(WhistleSituation.active.is_(True))
                           .group_by(WhistleSituation.area)).all())
    return {area.value: rows.get(area.value, 0) for area in Area}


# --- Excel -------------------------------------------------------------------------------

def _number(value: str) -> int | float:
    amount = Decimal(value)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def export_workbook(db: Session) -> bytes:
    """Every situation, retired ones too (状态 停用), in the import's shape."""
    situations = list_situations(db, status="all")
    units = _units(db, {code for s in situations for code in s.department_codes})
    rows = (
        (s.code, Area(s.area).label, s.name, s.description, s.start_standard, "、".join(s.department_codes),
         _number(s.limit_value), UNIT_LABELS[LimitUnit(s.limit_unit)], s.legal_basis,
         "是" if s.demo else "否", "启用" if s.active else "停用",
         "、".join(units[c].short_name or units[c].name for c in s.department_codes if c in units))
        for s in situations
    )
    return write_workbook([SheetSpec(SHEET, (*COLUMNS.values(), *REFERENCE_COLUMNS), rows,
                                     {"情形编码": "@", "应哨部门编码": "@"})])


def parse_workbook(content: bytes) -> SituationInput:
    """Rows of the first sheet keyed like the API body; the import checks them all."""
    found = SituationInput()
    field_of = {header: name for name, header in COLUMNS.items()}
    for number, row in read_rows(content, required_headers=list(COLUMNS.values())):
        data: dict[str, Any] = {}
        for header, value in row.items():
            name = field_of.get(header)
            if name is None:
                continue
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            data[name] = value
        data["code"] = str(data["code"]) if data.get("code") is not None else None
        data["time_limit"] = {"value": data.pop("time_limit.value", None),
                              "unit": data.pop("time_limit.unit", None)}
        found.rows.append(SourceRow(SHEET, number, data))
    return found
