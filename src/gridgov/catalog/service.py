"""The catalog (事项目录) and duty matrix (职责清单): versioned types, rules, import, resolution.

What the case lifecycle calls:

- `get_type(db, code=, at=)` — the version of a type in force at an instant (its `.id` is
  what a case records);
- `search_types(db, text=)` — type-ahead over code, name and keywords;
- `resolve_duty(db, type_code=, street_code=, owner_code=, area=)` — the real unit that
  handles a case, and the rule that says so.

Every write ends with one commit carrying its audit events. A change of a type never rewrites
a version: it ends the version in force and starts a new one at the same instant.
"""

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session, aliased

from gridgov.audit import service as audit
from gridgov.audit.rules import Actor
from gridgov.catalog.models import (
    CatalogClass,
    CatalogDomain,
    DutyArea,
    DutyRuleRow,
    MatterType,
    MatterTypeVersion,
)
from gridgov.catalog.rules import (
    CATEGORIES,
    CATEGORY_NAMES,
    DOMAIN_NAMES,
    GRADES,
    LOCAL_STREET,
    TYPE_CODE_PREFIXES,
    DutyRule,
    resolve_responsible_unit,
    validate_catalog,
    validate_duty_rules,
)
from gridgov.catalog.schemas import (
    CatalogStats,
    DutyAnswer,
    DutyRuleIn,
    DutyRulePatch,
    ImportReport,
    MatterTypeBody,
    MatterTypeIn,
    MatterTypeVersionOut,
    TimeLimitOut,
)
from gridgov.clock import utcnow
from gridgov.errors import Conflict, InvalidInput, NotFound
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind

SEARCH_LIMIT_MAX = 100
RULE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_NEXT_INSTANT = timedelta(microseconds=1)
# Key of the PostgreSQL advisory lock that serialises catalog writes ("catg"); SQLite write
# sessions are serialised already (BEGIN IMMEDIATE).
_WRITE_LOCK_KEY = 0x63617467


def _serialise_writes(db: Session) -> None:
    """Called first in every write: two admins changing the same type read, then write, in turn."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK_KEY})


# --- reading types -----------------------------------------------------------------------

def _instant(at: datetime | None) -> datetime:
    if at is None:
        return utcnow()
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("时间必须带时区（如 2026-03-01T09:00:00+08:00）",
                           errors=[{"field": "at", "message": "时间必须带时区"}])
    return at


def get_type(db: Session, *, code: str, at: datetime | None = None) -> MatterTypeVersion:
    """The version of type `code` in force at `at` (default: now).

    NotFound (Chinese message) for an unknown code, a retired type, or an instant before
    the type's first version."""
    when = _instant(at)
    version = db.scalar(
        select(MatterTypeVersion)
        .where(MatterTypeVersion.code == code, MatterTypeVersion.valid_from <= when,
               or_(MatterTypeVersion.valid_to.is_(None), MatterTypeVersion.valid_to > when))
        .order_by(MatterTypeVersion.valid_from.desc()).limit(1)
    )
    if version is not None:
        return version
    versions = db.scalars(select(MatterTypeVersion).where(MatterTypeVersion.code == code)
                          .order_by(MatterTypeVersion.valid_from)).all()
    if not versions:
        raise NotFound(f"事项编码 {code} 不存在")
    if when < versions[0].valid_from:
        raise NotFound(f"事项 {code} 在该时间尚未生效"
                       f"（首个版本生效于 {versions[0].valid_from:%Y-%m-%d %H:%M} UTC）")
    raise NotFound(f"事项 {code}（{versions[-1].name}）已停用")


def get_version(db: Session, *, version_id: int) -> MatterTypeVersion:
    """A version by its id, in force or not (cases show the standard they were dispatched under)."""
    version = db.get(MatterTypeVersion, version_id)
    if version is None:
        raise NotFound(f"事项版本 {version_id} 不存在")
    return version


def type_history(db: Session, *, code: str) -> list[MatterTypeVersion]:
    """Every version of a type, newest first; NotFound for an unknown code."""
    versions = list(db.scalars(select(MatterTypeVersion).where(MatterTypeVersion.code == code)
                               .order_by(MatterTypeVersion.version.desc())))
    if not versions:
        raise NotFound(f"事项编码 {code} 不存在")
    return versions


def _like_terms(text: str) -> list[str]:
    return [term for term in text.lower().split() if term]


def search_types(db: Session, *, text: str, limit: int = 20) -> list[MatterTypeVersion]:
    """Type-ahead over the types in force: every whitespace-separated term must occur in the
    code, the name or a keyword (substring, ASCII case-insensitive).

    Ranked: exact code, code prefix, name containing the first term, keyword only; then
    shorter names first, then code."""
    terms = _like_terms(text)
    if not terms:
        return []
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    version = MatterTypeVersion
    first = terms[0]
    rank = case(
        (version.search_text.startswith(first + "|", autoescape=True), 0),
        (version.search_text.startswith(first, autoescape=True), 1),
        (func.lower(version.name).contains(first, autoescape=True), 2),
        else_=3,
    )
    query = (select(version).where(version.valid_to.is_(None))
             .where(*[version.search_text.contains(term, autoescape=True) for term in terms])
             .order_by(rank, func.length(version.name), version.code).limit(limit))
    return list(db.scalars(query))


def _latest_only():
    later = aliased(MatterTypeVersion)
    return ~exists().where(later.type_id == MatterTypeVersion.type_id,
                           later.version > MatterTypeVersion.version)


def list_types(
    db: Session, *, text: str | None = None, domain: str | None = None,
    category: str | None = None, grade: str | None = None, urgency: str | None = None,
    status: str = "current", limit: int = 50, offset: int = 0,
) -> tuple[list[MatterTypeVersion], int]:
    """A page of types (their current version, or for retired types their last), by code;
    and the total. `status`: current | retired | all."""
    version = MatterTypeVersion
    query = select(version)
    if status == "current":
        query = query.where(version.valid_to.is_(None))
    elif status == "retired":
        query = query.where(version.valid_to.is_not(None), _latest_only())
    elif status == "all":
        query = query.where(_latest_only())
    else:
        raise InvalidInput(f"状态“{status}”应为 current、retired 或 all")
    for column, value in ((version.domain, domain), (version.category, category),
                          (version.default_grade, grade), (version.urgency, urgency)):
        if value is not None:
            query = query.where(column == value)
    if text:
        query = query.where(*[version.search_text.contains(term, autoescape=True)
                              for term in _like_terms(text)])
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.scalars(query.order_by(version.code).limit(limit).offset(offset)).all()
    return list(items), total


def version_out(version: MatterTypeVersion) -> MatterTypeVersionOut:
    limit = version.time_limit
    return MatterTypeVersionOut(
        id=version.id, code=version.code, version=version.version, name=version.name,
        domain=version.domain, domain_name=DOMAIN_NAMES.get(version.domain, version.domain),
        category=version.category, major_class=version.major_class,
        minor_class=version.minor_class, keywords=list(version.keywords),
        filing_condition=version.filing_condition, closing_condition=version.closing_condition,
        time_limit=TimeLimitOut(value=limit.value, unit=limit.unit.value, text=str(limit)),
        urgency=version.urgency, urgent=version.urgent, default_grade=version.default_grade,
        valid_from=version.valid_from, valid_to=version.valid_to, change_note=version.change_note,
    )


def list_domains(db: Session) -> list[CatalogDomain]:
    return list(db.scalars(select(CatalogDomain).order_by(CatalogDomain.code)))


def list_classes(db: Session, *, domain: str | None = None,
                 category: str | None = None) -> list[CatalogClass]:
    query = select(CatalogClass).order_by(CatalogClass.domain, CatalogClass.category,
                                          CatalogClass.code)
    if domain is not None:
        query = query.where(CatalogClass.domain == domain)
    if category is not None:
        query = query.where(CatalogClass.category == category)
    return list(db.scalars(query))


def list_areas(db: Session) -> list[DutyArea]:
    return list(db.scalars(select(DutyArea).order_by(DutyArea.name)))


def stats(db: Session) -> CatalogStats:
    version = MatterTypeVersion
    current = version.valid_to.is_(None)
    per_domain = dict(db.execute(select(version.domain, func.count()).where(current)
                                 .group_by(version.domain)).all())
    per_grade = dict(db.execute(select(version.default_grade, func.count()).where(current)
                                .group_by(version.default_grade)).all())
    types = sum(per_domain.values())
    all_types = db.scalar(select(func.count()).select_from(MatterType)) or 0
    rules = db.scalar(select(func.count()).select_from(DutyRuleRow)) or 0
    active = db.scalar(select(func.count()).select_from(DutyRuleRow)
                       .where(DutyRuleRow.active.is_(True))) or 0
    return CatalogStats(
        types=types, retired=all_types - types, rules=rules, active_rules=active,
        per_domain={code: per_domain.get(code, 0) for code in DOMAIN_NAMES},
        per_grade={grade: per_grade.get(grade, 0) for grade in GRADES},
    )


# --- type rows: normalising, validating, writing ----------------------------------------

@dataclass(frozen=True)
class SourceRow:
    """A row to import, with where it came from: a sheet and its row number, or the API."""

    sheet: str
    row: int | None
    data: dict[str, Any]
    columns: Mapping[str, str] = field(default_factory=dict)  # field → column header

    def problem(self, field_name: str, message: str, code: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {"sheet": self.sheet, "row": self.row, "code": code,
                                 "field": field_name, "message": message}
        column = self.columns.get(field_name) or self.columns.get(field_name.split(".")[0])
        if column:
            found["column"] = column
        return found


@dataclass
class CatalogInput:
    """Everything one import brings: classes, areas, types and duty rules (each optional)."""

    types: list[SourceRow] = field(default_factory=list)
    rules: list[SourceRow] = field(default_factory=list)
    classes: list[SourceRow] = field(default_factory=list)
    areas: list[SourceRow] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)  # found while parsing


def canonical_limit_value(value: Any) -> str | None:
    """"4", "0.5" … from an int, float, Decimal or numeric text; None when not a number."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, float):
            amount = Decimal(repr(value))
        elif isinstance(value, int | Decimal):
            amount = Decimal(value)
        elif isinstance(value, str):
            amount = Decimal(value.strip())
        else:
            return None
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    text = f"{amount.normalize():f}"
    return text


def _number_for_rules(value: Any) -> Any:
    """`catalog.rules` checks ints and floats: numeric text and Decimals become those."""
    text = canonical_limit_value(value)
    if text is None or isinstance(value, bool):
        return value
    amount = Decimal(text)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def normalise_type_row(data: Mapping[str, Any]) -> dict[str, Any]:
    """A type row in the shape `catalog.rules.validate_matter_type` checks."""
    row = {key: _clean_text(data.get(key)) for key in (
        "code", "name", "domain", "category", "major_class", "minor_class", "filing_condition",
        "closing_condition", "urgency", "default_grade")}
    keywords = data.get("keywords")
    if isinstance(keywords, list | tuple):
        keywords = [word.strip() if isinstance(word, str) else word for word in keywords]
    row["keywords"] = keywords
    limit = data.get("time_limit")
    if isinstance(limit, Mapping):
        limit = {"value": _number_for_rules(limit.get("value")),
                 "unit": _clean_text(limit.get("unit"))}
    row["time_limit"] = limit
    return row


def _content(row: Mapping[str, Any]) -> dict[str, Any]:
    """The versioned content of a validated row, as stored."""
    return {
        "name": row["name"], "domain": row["domain"], "category": row["category"],
        "major_class": row["major_class"], "minor_class": row["minor_class"],
        "keywords": list(row["keywords"]), "filing_condition": row["filing_condition"],
        "closing_condition": row["closing_condition"],
        "limit_value": canonical_limit_value(row["time_limit"]["value"]),
        "limit_unit": row["time_limit"]["unit"], "urgency": row["urgency"],
        "default_grade": row["default_grade"],
    }


def _version_content(version: MatterTypeVersion) -> dict[str, Any]:
    return {
        "name": version.name, "domain": version.domain, "category": version.category,
        "major_class": version.major_class, "minor_class": version.minor_class,
        "keywords": list(version.keywords), "filing_condition": version.filing_condition,
        "closing_condition": version.closing_condition, "limit_value": version.limit_value,
        "limit_unit": version.limit_unit, "urgency": version.urgency,
        "default_grade": version.default_grade,
    }


def _version_snapshot(version: MatterTypeVersion) -> dict[str, Any]:
    return {"version_id": version.id, "version": version.version, **_version_content(version),
            "valid_from": version.valid_from, "valid_to": version.valid_to}


def type_row(version: MatterTypeVersion) -> dict[str, Any]:
    """A version as a catalog row (the JSON / import shape)."""
    content = _version_content(version)
    value = Decimal(content.pop("limit_value"))
    unit = content.pop("limit_unit")
    number = int(value) if value == value.to_integral_value() else float(value)
    return {"code": version.code, **content, "time_limit": {"value": number, "unit": unit}}


def search_text(code: str, name: str, keywords: Iterable[str]) -> str:
    return "|".join([code, name, *keywords]).lower()


@dataclass
class _Known:
    """What the database already holds, for validating and writing one import — or, for a
    single API write, only what concerns the types it names (a few rows, not 5,000)."""

    classes: dict[tuple[str, str, str], CatalogClass]
    areas: dict[str, DutyArea]
    types: dict[str, MatterType]
    current: dict[str, MatterTypeVersion]  # code → version in force
    latest_version_number: dict[int, int]  # type id → highest version number
    rules: dict[str, DutyRuleRow]
    units: dict[str, tuple[UnitKind, str]]  # code → (kind, display name)
    field_unit_parents: set[str]  # codes of units with a field unit per street
    names_taken: dict[tuple[str, str], str]  # (domain, name) → code, of the types in force

    @classmethod
    def load(cls, db: Session, *, codes: Collection[str] | None = None,
             names: Collection[str] = ()) -> "_Known":
        """Everything; or with `codes`, only those types and their rules, and which types in
        force use `names`."""
        units = {code: (UnitKind(kind), short or name) for code, kind, short, name in db.execute(
            select(Unit.code, Unit.kind, Unit.short_name, Unit.name))}
        parent = aliased(Unit)
        field_unit_parents = set(db.scalars(
            select(parent.code).join(Unit, Unit.parent_id == parent.id)
            .where(Unit.kind == UnitKind.FIELD_UNIT, Unit.serves_street_id.is_not(None))
            .distinct()))
        types_query = select(MatterType)
        current_query = select(MatterTypeVersion).where(MatterTypeVersion.valid_to.is_(None))
        latest_query = select(MatterTypeVersion.type_id, func.max(MatterTypeVersion.version))
        rules_query = select(DutyRuleRow)
        if codes is not None:
            types_query = types_query.where(MatterType.code.in_(codes))
            current_query = current_query.where(MatterTypeVersion.code.in_(codes))
            latest_query = latest_query.where(MatterTypeVersion.code.in_(codes))
            rules_query = rules_query.where(DutyRuleRow.type_code.in_(codes))
        current = {v.code: v for v in db.scalars(current_query)}
        if codes is None:
            names_taken = {(v.domain, v.name): code for code, v in current.items()}
        else:
            names_taken = {(domain, name): code for code, domain, name in db.execute(
                select(MatterTypeVersion.code, MatterTypeVersion.domain, MatterTypeVersion.name)
                .where(MatterTypeVersion.valid_to.is_(None), MatterTypeVersion.name.in_(names)))}
        return cls(
            classes={(c.domain, c.category, c.code): c for c in db.scalars(select(CatalogClass))},
            areas={a.name: a for a in db.scalars(select(DutyArea))},
            types={t.code: t for t in db.scalars(types_query)},
            current=current,
            latest_version_number=dict(db.execute(
                latest_query.group_by(MatterTypeVersion.type_id)).all()),
            rules={r.rule_id: r for r in db.scalars(rules_query)},
            units=units, field_unit_parents=field_unit_parents, names_taken=names_taken,
        )

    @property
    def street_codes(self) -> set[str]:
        return {code for code, (kind, _) in self.units.items() if kind is UnitKind.STREET}


def _class_problems(rows: Sequence[SourceRow], known: _Known) -> tuple[list[dict], set]:
    """Problems of the class rows, and the (domain, category, code, major) keys they add."""
    problems: list[dict] = []
    incoming: dict[tuple[str, str, str], SourceRow] = {}
    majors_here = {(r.data.get("domain"), r.data.get("category"), r.data.get("code"))
                   for r in rows if not r.data.get("major_code")}
    for row in rows:
        data = row.data
        code, domain, category = data.get("code"), data.get("domain"), data.get("category")
        major, name = data.get("major_code"), data.get("name")

        def add(field_name: str, message: str, row: SourceRow = row, code: Any = code) -> None:
            problems.append(row.problem(field_name, message, code))

        if domain not in DOMAIN_NAMES:
            add("domain", f"监管领域“{domain}”不在可选值中（{'、'.join(DOMAIN_NAMES)}）")
        if category not in CATEGORIES:
            add("category", f"类别“{category}”不在可选值中（{'、'.join(CATEGORIES)}）")
        elif domain in DOMAIN_NAMES and (domain == "urban_management") != (
                category in ("component", "event")):
            add("category", "城市管理分类的类别应为部件或事件，其他领域的应为其他")
        if not isinstance(name, str) or not name.strip():
            add("name", "缺少分类名称")
        if not isinstance(code, str) or not re.fullmatch(r"\d{2}|\d{4}", code):
            add("code", f"分类编码“{code}”应为两位（大类）或四位（小类）数字")
            continue
        if len(code) == 2 and major:
            add("major_code", "大类不能再有所属大类")
        if len(code) == 4:
            if major and major != code[:2]:
                add("major_code", f"小类“{code}”不属于大类“{major}”")
            elif (domain, category, code[:2]) not in known.classes and \
                    (domain, category, code[:2]) not in majors_here:
                add("major_code", f"大类“{code[:2]}”不存在")
        key = (domain, category, code)
        if key in incoming:
            add("code", f"分类编码“{code}”与第 {incoming[key].row} 行重复")
        else:
            incoming[key] = row
    return problems, set(incoming)


def _type_problems(rows: Sequence[SourceRow], known: _Known, class_keys: set) -> list[dict]:
    normalised = [normalise_type_row(row.data) for row in rows]
    found_problems = validate_catalog(normalised)
    problems = [rows[found.row_index].problem(found.problem.field, found.problem.message,
                                              found.type_code)
                for found in found_problems]
    codes_here = {row.get("code") for row in normalised}
    names_elsewhere = {key: code for key, code in known.names_taken.items()
                       if code not in codes_here}
    classes = set(known.classes) | class_keys
    for source, row in zip(rows, normalised, strict=True):
        domain, category, code = row["domain"], row["category"], row["code"]
        major, minor = row["major_class"], row["minor_class"]
        if domain not in DOMAIN_NAMES or category not in CATEGORIES:
            continue  # reported by validate_catalog
        where = f"{DOMAIN_NAMES[domain]}·{CATEGORY_NAMES[category]}"
        major_ok = isinstance(major, str) and re.fullmatch(r"\d{2}", major) is not None
        minor_ok = isinstance(minor, str) and re.fullmatch(r"\d{4}", minor) is not None
        if major_ok and (domain, category, major) not in classes:
            problems.append(source.problem(
                "major_class", f"大类“{major}”不在{where}的分类代码中", code))
        elif major_ok and minor_ok and minor.startswith(major) \
                and (domain, category, minor) not in classes:
            problems.append(source.problem(
                "minor_class", f"小类“{minor}”不在{where}的分类代码中", code))
        other = names_elsewhere.get((domain, row["name"]))
        if other is not None:
            problems.append(source.problem(
                "name", f"事项名称“{row['name']}”已被现有事项 {other} 使用", code))
    return problems


def _area_problems(rows: Sequence[SourceRow], known: _Known) -> tuple[list[dict], set[str]]:
    problems: list[dict] = []
    seen: dict[str, SourceRow] = {}
    streets = known.street_codes
    for row in rows:
        name, street = row.data.get("name"), row.data.get("street_code")
        if not isinstance(name, str) or not name.strip():
            problems.append(row.problem("name", "缺少区域名称"))
            continue
        if street not in streets:
            problems.append(row.problem("street_code", f"街道 {street} 不存在", name))
        if name in seen:
            problems.append(row.problem("name", f"区域“{name}”与第 {seen[name].row} 行重复", name))
        seen[name] = row
    return problems, set(seen)


def _as_bool(value: Any, default: bool) -> bool | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("是", "true", "1", "y", "yes", "启用"):
        return True
    if text in ("否", "false", "0", "n", "no", "停用"):
        return False
    return None


def _optional_code(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class _RuleRow:
    source: SourceRow
    rule: DutyRule
    active: bool


def _rule_problems(
    rows: Sequence[SourceRow], known: _Known, *, type_codes: set[str], area_names: set[str],
) -> tuple[list[dict], list[_RuleRow]]:
    """Problems of the duty-rule rows against the units, types, streets and areas; and the
    good rows. Rules in the database but not among `rows` take part in the duplicate check."""
    problems: list[dict] = []
    good: list[_RuleRow] = []
    seen_ids: dict[str, SourceRow] = {}
    for row in rows:
        data = row.data
        rule_id = _optional_code(data.get("id"))
        row_problems = []
        if rule_id is None:
            row_problems.append(("id", "缺少规则编号"))
        elif not RULE_ID_PATTERN.match(rule_id):
            row_problems.append(("id", f"规则编号“{rule_id}”只能包含字母、数字和 - _ .，最长 32 位"))
        elif rule_id in seen_ids:
            row_problems.append(("id", f"规则编号 {rule_id} 与第 {seen_ids[rule_id].row} 行重复"))
        for key, label in (("type_code", "事项编码"), ("unit_code", "责任单位编码")):
            if _optional_code(data.get(key)) is None:
                row_problems.append((key, f"缺少{label}"))
        per_street = _as_bool(data.get("per_street_field_unit"), False)
        active = _as_bool(data.get("active"), True)
        if per_street is None:
            row_problems.append(("per_street_field_unit", "应填“是”或“否”"))
        if active is None:
            row_problems.append(("active", "应填“是”或“否”"))
        note = data.get("note")
        if note is not None and len(str(note)) > 200:
            row_problems.append(("note", "说明不能超过 200 字"))
        if row_problems:
            problems.extend(row.problem(f, m, rule_id) for f, m in row_problems)
            continue
        seen_ids[rule_id] = row
        good.append(_RuleRow(row, DutyRule(
            rule_id=rule_id, type_code=_optional_code(data["type_code"]),
            unit_code=_optional_code(data["unit_code"]),
            street_code=_optional_code(data.get("street_code")),
            owner_code=_optional_code(data.get("owner_code")),
            area=_optional_code(data.get("area")), per_street_field_unit=bool(per_street),
            note=str(note or "").strip()), bool(active)))
    by_id = {item.rule.rule_id: item for item in good}
    others = [_rule_of(r) for r in known.rules.values() if r.active and r.rule_id not in by_id]
    context: dict[str, Any] = {
        "type_codes": type_codes, "unit_codes": set(known.units),
        "field_unit_codes": known.field_unit_parents, "street_codes": known.street_codes,
        "area_names": area_names}
    found = validate_duty_rules([*others, *(i.rule for i in good if i.active)], **context)
    found += [p for p in validate_duty_rules([i.rule for i in good if not i.active], **context)
              if p.problem.code != "duplicate"]
    for item in found:
        if item.rule_id in by_id:
            problems.append(by_id[item.rule_id].source.problem(
                item.problem.field, item.problem.message, item.rule_id))
    failed = {p["code"] for p in problems}
    return problems, [item for item in good if item.rule.rule_id not in failed]


def _rule_of(row: DutyRuleRow) -> DutyRule:
    return DutyRule(rule_id=row.rule_id, type_code=row.type_code, unit_code=row.unit_code,
                    street_code=row.street_code, owner_code=row.owner_code, area=row.area,
                    per_street_field_unit=row.per_street_field_unit, note=row.note)


def _rule_snapshot(row: DutyRuleRow) -> dict[str, Any]:
    return {"rule_id": row.rule_id, "type_code": row.type_code, "street_code": row.street_code,
            "owner_code": row.owner_code, "area": row.area, "unit_code": row.unit_code,
            "per_street_field_unit": row.per_street_field_unit, "note": row.note,
            "active": row.active}


def _refuse(problems: list[dict]) -> None:
    if problems:
        order = {"": 0}
        problems.sort(key=lambda p: (order.setdefault(p.get("sheet") or "", len(order)),
                                     p.get("row") or 0))
        raise InvalidInput(f"{len(problems)} 处错误，未写入任何数据", errors=problems)


def _ensure_domains(db: Session) -> None:
    present = set(db.scalars(select(CatalogDomain.code)))
    prefixes: dict[str, list[str]] = {}
    for prefix, (domain, _) in TYPE_CODE_PREFIXES.items():
        prefixes.setdefault(domain, []).append(prefix)
    for code, name in DOMAIN_NAMES.items():
        if code not in present:
            db.add(CatalogDomain(code=code, name=name, type_code_prefixes=",".join(prefixes[code])))
    db.flush()


@dataclass
class _Writer:
    db: Session
    actor: Actor
    known: _Known
    now: datetime
    effective_from: datetime  # when versions written by this import take effect
    report: ImportReport = field(default_factory=ImportReport)
    # Audit events wait for one flush of every row (ids assigned in bulk), then go in order.
    _audits: list[tuple[dict[str, Any], Callable[[], dict[str, Any]]]] = field(
        default_factory=list)

    def _audit(self, after: Callable[[], dict[str, Any]], **event: Any) -> None:
        self._audits.append((event, after))

    def finish(self) -> None:
        self.db.flush()
        for event, after in self._audits:
            audit.record(self.db, actor=self.actor, after=after(), **event)
        self._audits.clear()

    def write_class(self, data: Mapping[str, Any]) -> None:
        key = (data["domain"], data["category"], data["code"])
        major = data["code"][:2] if len(data["code"]) == 4 else None
        wanted = {"name": data["name"].strip(), "major_code": major,
                  "source": str(data.get("source") or "").strip()}
        row = self.known.classes.get(key)
        if row is not None and all(getattr(row, k) == v for k, v in wanted.items()):
            return
        before = None if row is None else {"name": row.name, "source": row.source}
        if row is None:
            row = CatalogClass(domain=key[0], category=key[1], code=key[2])
            self.db.add(row)
            self.known.classes[key] = row
        for name, value in wanted.items():
            setattr(row, name, value)
        after = {"name": row.name, "source": row.source, "major_code": major}
        self._audit(lambda: after,
                    action="catalog.class.create" if before is None else "catalog.class.update",
                    object_type="catalog_class", object_id="/".join(key), before=before)
        self.report.classes_written += 1

    def write_area(self, data: Mapping[str, Any]) -> None:
        wanted = {"street_code": data["street_code"], "note": str(data.get("note") or "").strip()}
        row = self.known.areas.get(data["name"])
        if row is not None and all(getattr(row, k) == v for k, v in wanted.items()):
            return
        before = None if row is None else {"street_code": row.street_code, "note": row.note}
        if row is None:
            row = DutyArea(name=data["name"])
            self.db.add(row)
            self.known.areas[row.name] = row
        row.street_code, row.note = wanted["street_code"], wanted["note"]
        self._audit(lambda: wanted,
                    action="catalog.area.create" if before is None else "catalog.area.update",
                    object_type="catalog_area", object_id=row.name, before=before)
        self.report.areas_written += 1

    def add_types(self, codes: Iterable[str]) -> list[MatterType]:
        """Type identities for new codes, inserted in one flush."""
        added = [MatterType(code=code, created_at=self.now) for code in codes
                 if code not in self.known.types]
        self.db.add_all(added)
        self.db.flush()
        self.known.types.update((t.code, t) for t in added)
        return added

    def write_type(self, row: Mapping[str, Any], *, note: str | None = None) -> MatterTypeVersion:
        """Create the type, or start a new version when its content changed; else nothing."""
        code = row["code"]
        content = _content(row)
        current = self.known.current.get(code)
        if current is not None and _version_content(current) == content:
            self.report.types_unchanged += 1
            return current
        matter_type = self.known.types.get(code) or self.add_types([code])[0]
        starts = self.effective_from
        before = None
        if current is not None:
            starts = max(self.effective_from, current.valid_from + _NEXT_INSTANT)
            before = _version_snapshot(current)
            current.valid_to = starts
        number = self.known.latest_version_number.get(matter_type.id, 0) + 1
        version = MatterTypeVersion(
            type_id=matter_type.id, code=code, version=number, **content,
            search_text=search_text(code, content["name"], content["keywords"]),
            valid_from=starts, valid_to=None, created_at=self.now, change_note=note)
        self.db.add(version)
        self.known.current[code] = version
        self.known.latest_version_number[matter_type.id] = number
        created = number == 1
        self._audit(lambda: _version_snapshot(version),
                    action="catalog.type.create" if created else "catalog.type.version",
                    object_type="matter_type", object_id=code, before=before, reason=note)
        if created:
            self.report.types_created += 1
        else:
            self.report.types_versioned += 1
        return version

    def write_rule(self, item: _RuleRow) -> DutyRuleRow:
        rule = item.rule
        wanted = {"type_code": rule.type_code, "street_code": rule.street_code,
                  "owner_code": rule.owner_code, "area": rule.area, "unit_code": rule.unit_code,
                  "per_street_field_unit": rule.per_street_field_unit, "note": rule.note,
                  "active": item.active}
        row = self.known.rules.get(rule.rule_id)
        if row is not None and all(getattr(row, k) == v for k, v in wanted.items()):
            self.report.rules_unchanged += 1
            return row
        before = None if row is None else _rule_snapshot(row)
        if row is None:
            row = DutyRuleRow(rule_id=rule.rule_id)
            self.db.add(row)
            self.known.rules[rule.rule_id] = row
        for name, value in wanted.items():
            setattr(row, name, value)
        row.updated_at = self.now
        if before is None:
            action = "catalog.rule.create"
            self.report.rules_created += 1
        else:
            action = "catalog.rule.deactivate" if before["active"] and not item.active \
                else "catalog.rule.update"
            self.report.rules_updated += 1
        after = _rule_snapshot(row)
        self._audit(lambda: after, action=action, object_type="duty_rule",
                    object_id=rule.rule_id, before=before)
        return row


def import_catalog(db: Session, *, actor: Actor, data: CatalogInput,
                   effective_from: datetime | None = None) -> ImportReport:
    """Write every class, area, type and duty rule of `data`, or nothing.

    New type versions take effect now, or from `effective_from` (the demo catalog is loaded as
    in force since the demo's start, so that cases of the past can be typed with it).

    Everything is checked first: each type row by `catalog.rules.validate_catalog`, its classes
    against the class codes (in the database or in the same import), each duty rule against
    the real units, streets, types and areas. Any problem refuses the whole import, listing
    every problem with its sheet, row, field and message. A type whose content changed gets
    a new version; unchanged rows write nothing. Import never retires a type or deletes a rule.
    """
    _serialise_writes(db)
    known = _Known.load(db)
    problems = list(data.problems)
    class_problems, class_keys = _class_problems(data.classes, known)
    problems += class_problems
    problems += _type_problems(data.types, known, class_keys)
    area_problems, area_names = _area_problems(data.areas, known)
    problems += area_problems
    type_codes = set(known.types) | {row.data.get("code") for row in data.types}
    rule_problems, rules = _rule_problems(
        data.rules, known, type_codes=type_codes, area_names=set(known.areas) | area_names)
    problems += rule_problems
    _refuse(problems)

    _ensure_domains(db)
    now = utcnow()
    writer = _Writer(db, actor, known, now, effective_from or now)
    # Majors before minors, so a minor's major is always there first.
    for row in sorted(data.classes, key=lambda r: len(r.data["code"])):
        writer.write_class(row.data)
    for row in data.areas:
        writer.write_area(row.data)
    type_rows = [normalise_type_row(row.data) for row in data.types]
    writer.add_types(row["code"] for row in type_rows)
    for row in type_rows:
        writer.write_type(row)
    for item in rules:
        writer.write_rule(item)
    writer.finish()
    report = writer.report
    audit.record(db, actor=actor, action="catalog.import", object_type="catalog",
                 after=report.model_dump())
    db.commit()
    return report


# --- single-type writes (API) -------------------------------------------------------------

def _api_type_row(code: str, body: MatterTypeBody) -> SourceRow:
    data = body.model_dump(exclude={"change_note"})
    data["code"] = code
    return SourceRow("", None, data)


def _check_one_type(known: _Known, source: SourceRow) -> None:
    problems = _type_problems([source], known, set())
    if problems:
        for problem in problems:
            for key in ("sheet", "row"):
                problem.pop(key, None)
        raise InvalidInput(problems[0]["message"] if len(problems) == 1
                           else f"{len(problems)} 处错误", errors=problems)


def create_type(db: Session, *, actor: Actor, data: MatterTypeIn) -> MatterTypeVersion:
    """A new matter type (its version 1). Conflict when the code exists, even retired."""
    _serialise_writes(db)
    known = _Known.load(db, codes={data.code}, names={data.name})
    if data.code in known.types:
        raise Conflict(f"事项编码 {data.code} 已存在；修改请用更新（生成新版本）")
    source = _api_type_row(data.code, data)
    _check_one_type(known, source)
    _ensure_domains(db)
    now = utcnow()
    writer = _Writer(db, actor, known, now, now)
    version = writer.write_type(normalise_type_row(source.data), note=data.change_note)
    writer.finish()
    db.commit()
    return version


def update_type(db: Session, *, actor: Actor, code: str, data: MatterTypeBody) -> MatterTypeVersion:
    """Change a type: a new version in force from now, the old one ended (a retired type is
    reinstated). Identical content changes nothing and returns the version in force."""
    _serialise_writes(db)
    known = _Known.load(db, codes={code}, names={data.name})
    if code not in known.types:
        raise NotFound(f"事项编码 {code} 不存在")
    source = _api_type_row(code, data)
    _check_one_type(known, source)
    now = utcnow()
    writer = _Writer(db, actor, known, now, now)
    version = writer.write_type(normalise_type_row(source.data), note=data.change_note)
    writer.finish()
    db.commit()
    return version


def retire_type(
    db: Session, *, actor: Actor, code: str, reason: str | None = None,
) -> MatterTypeVersion:
    """End the version in force: new cases cannot use the type; old cases keep their version."""
    _serialise_writes(db)
    current = db.scalar(select(MatterTypeVersion).where(
        MatterTypeVersion.code == code, MatterTypeVersion.valid_to.is_(None)))
    if current is None:
        type_history(db, code=code)  # NotFound for an unknown code
        raise Conflict(f"事项 {code} 已停用")
    before = _version_snapshot(current)
    current.valid_to = max(utcnow(), current.valid_from + _NEXT_INSTANT)
    audit.record(db, actor=actor, action="catalog.type.retire", object_type="matter_type",
                 object_id=code, before=before, after=_version_snapshot(current), reason=reason)
    db.commit()
    return current


# --- duty rules ---------------------------------------------------------------------------

def get_rule(db: Session, *, rule_id: str) -> DutyRuleRow:
    row = db.scalar(select(DutyRuleRow).where(DutyRuleRow.rule_id == rule_id))
    if row is None:
        raise NotFound(f"职责规则 {rule_id} 不存在")
    return row


def list_rules(
    db: Session, *, type_code: str | None = None, unit_code: str | None = None,
    active: bool | None = None, limit: int = 100, offset: int = 0,
) -> tuple[list[DutyRuleRow], int]:
    query = select(DutyRuleRow)
    if type_code is not None:
        query = query.where(DutyRuleRow.type_code == type_code)
    if unit_code is not None:
        query = query.where(DutyRuleRow.unit_code == unit_code)
    if active is not None:
        query = query.where(DutyRuleRow.active.is_(active))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.scalars(query.order_by(DutyRuleRow.rule_id).limit(limit).offset(offset)).all()
    return list(items), total


def next_rule_id(db: Session) -> str:
    numbers = [int(rule_id[1:]) for rule_id in db.scalars(
        select(DutyRuleRow.rule_id).where(DutyRuleRow.rule_id.like("R%")))
        if rule_id[1:].isdigit()]
    return f"R{max(numbers, default=0) + 1:04d}"


def _write_one_rule(db: Session, *, actor: Actor, data: dict[str, Any]) -> DutyRuleRow:
    _serialise_writes(db)
    known = _Known.load(db, codes={str(data.get("type_code") or "")})
    source = SourceRow("", None, data)
    problems, rules = _rule_problems([source], known, type_codes=set(known.types),
                                     area_names=set(known.areas))
    if problems:
        for problem in problems:
            for key in ("sheet", "row"):
                problem.pop(key, None)
        raise InvalidInput(problems[0]["message"] if len(problems) == 1
                           else f"{len(problems)} 处错误", errors=problems)
    now = utcnow()
    writer = _Writer(db, actor, known, now, now)
    row = writer.write_rule(rules[0])
    writer.finish()
    db.commit()
    return row


def create_rule(db: Session, *, actor: Actor, data: DutyRuleIn) -> DutyRuleRow:
    _serialise_writes(db)
    values = data.model_dump()
    rule_id = values.pop("rule_id") or next_rule_id(db)
    if db.scalar(select(DutyRuleRow.id).where(DutyRuleRow.rule_id == rule_id)) is not None:
        raise Conflict(f"职责规则 {rule_id} 已存在")
    return _write_one_rule(db, actor=actor, data={"id": rule_id, **values})


def update_rule(db: Session, *, actor: Actor, rule_id: str, patch: DutyRulePatch) -> DutyRuleRow:
    _serialise_writes(db)
    row = get_rule(db, rule_id=rule_id)
    values = _rule_snapshot(row)
    values.pop("rule_id")
    values.update(patch.model_dump(exclude_unset=True))
    return _write_one_rule(db, actor=actor, data={"id": rule_id, **values})


def deactivate_rule(db: Session, *, actor: Actor, rule_id: str) -> DutyRuleRow:
    _serialise_writes(db)
    row = get_rule(db, rule_id=rule_id)
    if not row.active:
        raise Conflict(f"职责规则 {rule_id} 已停用")
    before = _rule_snapshot(row)
    row.active = False
    row.updated_at = utcnow()
    audit.record(db, actor=actor, action="catalog.rule.deactivate", object_type="duty_rule",
                 object_id=rule_id, before=before, after=_rule_snapshot(row))
    db.commit()
    return row


# --- resolution --------------------------------------------------------------------------

def _active_on(day: date):
    return or_(Unit.valid_to.is_(None), Unit.valid_to >= day)


def resolve_duty(
    db: Session, *, type_code: str, street_code: str, owner_code: str | None = None,
    area: str | None = None,
) -> DutyAnswer:
    """The real unit that handles a case of `type_code` in `street_code`.

    The most specific active duty rule names a department or utility — or, with
    `per_street_field_unit`, the department's field unit serving that street (the department
    itself if it has none there). No applicable rule: the street itself (属地兜底).
    NotFound for an unknown or retired type or an unknown street."""
    version = get_type(db, code=type_code)
    street = db.scalar(select(Unit).where(Unit.code == street_code))
    if street is None or street.kind != UnitKind.STREET:
        raise NotFound(f"街道 {street_code} 不存在")
    rows = db.scalars(select(DutyRuleRow).where(
        DutyRuleRow.type_code == type_code, DutyRuleRow.active.is_(True))
        .order_by(DutyRuleRow.rule_id)).all()
    rules = [_rule_of(row) for row in rows]
    wanted = {rule.unit_code for rule in rules} | {street_code}
    names = {code: short or name for code, short, name in db.execute(
        select(Unit.code, Unit.short_name, Unit.name).where(Unit.code.in_(wanted)))}
    resolution = resolve_responsible_unit(
        rules, type_code=type_code, street_code=street_code, owner_code=owner_code, area=area,
        unit_names=names)
    explanation = f"事项 {type_code}（{version.name}）在 {street_code} {names[street_code]}："
    if resolution.unit_code == LOCAL_STREET:
        unit = street
        explanation += f"{resolution.explanation}，由 {street.code} {street.name} 负责"
    else:
        unit = db.scalar(select(Unit).where(Unit.code == resolution.unit_code))
        if unit is None:  # validated on write; a unit could only vanish by hand
            raise NotFound(f"职责规则 {resolution.rule_id} 的责任单位 {resolution.unit_code} 不存在")
        explanation += resolution.explanation
        if resolution.per_street_field_unit:
            field_unit = _field_unit(db, department_id=unit.id, street_id=street.id)
            if field_unit is not None:
                unit = field_unit
                explanation += f"，即 {field_unit.code} {field_unit.name}"
            else:
                explanation += f"；该单位在此街道没有派出机构，派至 {unit.code} {unit.name} 本部"
    return DutyAnswer(
        type_code=type_code, street_code=street_code, owner_code=owner_code, area=area,
        unit_code=unit.code, unit_name=unit.name, rule_id=resolution.rule_id,
        fallback=resolution.is_fallback, explanation=explanation)


def _field_unit(db: Session, *, department_id: int, street_id: int) -> Unit | None:
    return db.scalar(
        select(Unit).where(Unit.parent_id == department_id, Unit.kind == UnitKind.FIELD_UNIT,
                           Unit.serves_street_id == street_id, _active_on(utcnow().date()))
        .order_by(Unit.code).limit(1))


# --- export ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogSnapshot:
    """The whole catalog in force, for export."""

    classes: list[CatalogClass]
    areas: list[DutyArea]
    types: list[MatterTypeVersion]
    rules: list[DutyRuleRow]
    unit_names: dict[str, str]
    type_names: dict[str, str]  # every type ever, by code (rules may name retired types)


def snapshot(db: Session) -> CatalogSnapshot:
    types = list(db.scalars(select(MatterTypeVersion).where(MatterTypeVersion.valid_to.is_(None))
                            .order_by(MatterTypeVersion.code)))
    latest = db.scalars(select(MatterTypeVersion).where(_latest_only()))
    return CatalogSnapshot(
        classes=list_classes(db), areas=list_areas(db), types=types,
        rules=list(db.scalars(select(DutyRuleRow).order_by(DutyRuleRow.rule_id))),
        unit_names={code: name for code, name in db.execute(select(Unit.code, Unit.name))},
        type_names={version.code: version.name for version in latest},
    )
