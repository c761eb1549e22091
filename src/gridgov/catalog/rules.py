"""Pure rules of the catalog: validating matter-type rows and resolving the duty matrix.

Matter-type codes: one letter, then major class (2 digits), minor class (2) and a sequence
(2), e.g. `C010102` = component, major 01 公用设施, minor 0101 上水井盖, second type.

| prefix | domain (监管领域)           | category  | classes                        |
|--------|-----------------------------|-----------|--------------------------------|
| C      | urban_management 城市管理    | component | 部件 classes, CJ/T 214 style   |
| E      | urban_management 城市管理    | event     | 事件 classes, CJ/T 214 style   |
| S      | social_services 社会服务管理 | other     | gridgov classes                |
| Z      | public_order 社会治安与防控  | other     | gridgov classes                |
| A      | public_safety 公共安全       | other     | gridgov classes                |

Duty matrix resolution: a rule applies when its type matches and each qualifier it sets
(street, component owner, named area) equals the case's value. Among applicable rules the
most specific wins: more qualifiers first; on equal count the qualifier rank decides,
owner > area > street; on a full tie (a data conflict that `validate_duty_rules` reports)
the earlier rule in the given order wins. No applicable rule: the local street (属地兜底).
"""

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

DOMAIN_NAMES: Final[Mapping[str, str]] = {
    "urban_management": "城市管理",
    "social_services": "社会服务管理",
    "public_order": "社会治安与防控",
    "public_safety": "公共安全",
}
CATEGORIES: Final = ("component", "event", "other")
CATEGORY_NAMES: Final[Mapping[str, str]] = {"component": "部件", "event": "事件", "other": "其他"}
URGENCIES: Final = ("normal", "urgent")
GRADES: Final = ("L1", "L2", "L3")

# The units a catalog time limit may use: a subset of the values of
# gridgov.calendar.rules.LimitUnit (owned by the calendar feature); keep the two in step.
LIMIT_UNITS: Final = ("working_hours", "working_days", "natural_hours", "natural_minutes")
NATURAL_LIMIT_UNITS: Final = frozenset({"natural_hours", "natural_minutes"})

TYPE_CODE_PREFIXES: Final[Mapping[str, tuple[str, str]]] = {
    "C": ("urban_management", "component"),
    "E": ("urban_management", "event"),
    "S": ("social_services", "other"),
    "Z": ("public_order", "other"),
    "A": ("public_safety", "other"),
}
TYPE_CODE_PATTERN: Final = re.compile(r"^([CESZA])(\d{2})(\d{2})(\d{2})$")
_MAJOR_PATTERN = re.compile(r"^\d{2}$")
_MINOR_PATTERN = re.compile(r"^\d{4}$")

_REQUIRED_TEXT = {
    "code": "事项编码", "name": "事项名称", "domain": "监管领域", "category": "类别",
    "major_class": "大类", "minor_class": "小类", "filing_condition": "立案条件",
    "closing_condition": "结案条件", "urgency": "紧急程度", "default_grade": "默认分级",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a row; `code` is stable for programs, `message` is for people."""

    field: str
    code: str  # missing | bad_format | unknown_value | not_positive | inconsistent | duplicate
    message: str


@dataclass(frozen=True)
class RowProblem:
    row_index: int  # position in the rows given, from 0
    type_code: str | None
    problem: Problem


def _text(row: Mapping[str, Any], field: str) -> str | None:
    value = row.get(field)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _check_present(row: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for field, label in _REQUIRED_TEXT.items():
        if field in row and row[field] is not None and not isinstance(row[field], str):
            problems.append(Problem(field, "bad_format", f"{label}应为文本"))
        elif _text(row, field) is None:
            problems.append(Problem(field, "missing", f"缺少{label}"))
    return problems


def _check_values(row: Mapping[str, Any]) -> list[Problem]:
    problems = []
    checks = (
        ("domain", DOMAIN_NAMES, "监管领域"),
        ("category", CATEGORIES, "类别"),
        ("urgency", URGENCIES, "紧急程度"),
        ("default_grade", GRADES, "默认分级"),
    )
    for field, allowed, label in checks:
        value = _text(row, field)
        if value is not None and value not in allowed:
            problems.append(Problem(
                field, "unknown_value", f"{label}“{value}”不在可选值中（{'、'.join(allowed)}）"))
    return problems


def _check_code_and_classes(row: Mapping[str, Any]) -> list[Problem]:
    problems = []
    code, major, minor = _text(row, "code"), _text(row, "major_class"), _text(row, "minor_class")
    domain, category = _text(row, "domain"), _text(row, "category")
    match = TYPE_CODE_PATTERN.match(code) if code else None
    if code and not match:
        problems.append(Problem(
            "code", "bad_format", f"事项编码“{code}”应为前缀字母（C/E/S/Z/A）加六位数字"))
    if major and not _MAJOR_PATTERN.match(major):
        problems.append(Problem("major_class", "bad_format", f"大类“{major}”应为两位数字"))
    if minor and not _MINOR_PATTERN.match(minor):
        problems.append(Problem("minor_class", "bad_format", f"小类“{minor}”应为四位数字"))
    elif minor and major and _MAJOR_PATTERN.match(major) and not minor.startswith(major):
        problems.append(Problem(
            "minor_class", "inconsistent", f"小类“{minor}”不属于大类“{major}”"))
    known_domain_and_category = domain in DOMAIN_NAMES and category in CATEGORIES
    if known_domain_and_category and (
            (domain == "urban_management") != (category in ("component", "event"))):
        problems.append(Problem(
            "category", "inconsistent", "城市管理事项的类别应为部件或事件，其他领域的应为其他"))
    if match:
        prefix, code_major, code_minor, _ = match.groups()
        expected_domain, expected_category = TYPE_CODE_PREFIXES[prefix]
        if known_domain_and_category and (domain, category) != (expected_domain, expected_category):
            meaning = f"{DOMAIN_NAMES[expected_domain]}·{CATEGORY_NAMES[expected_category]}"
            problems.append(Problem(
                "code", "inconsistent", f"编码前缀 {prefix} 表示{meaning}，与所填监管领域或类别不符"))
        if major and major != code_major:
            problems.append(Problem("code", "inconsistent", f"事项编码“{code}”与大类“{major}”不符"))
        if minor and minor != code_major + code_minor:
            problems.append(Problem("code", "inconsistent", f"事项编码“{code}”与小类“{minor}”不符"))
    return problems


def _check_keywords(row: Mapping[str, Any]) -> list[Problem]:
    keywords = row.get("keywords")
    if keywords is None or keywords == []:
        return [Problem("keywords", "missing", "至少填写一个检索关键词")]
    if isinstance(keywords, str) or not isinstance(keywords, Sequence):
        return [Problem("keywords", "bad_format", "检索关键词应为文本列表")]
    if not all(isinstance(word, str) and word.strip() for word in keywords):
        return [Problem("keywords", "bad_format", "检索关键词不能为空白或非文本")]
    return []


def _check_time_limit(row: Mapping[str, Any]) -> list[Problem]:
    limit = row.get("time_limit")
    if limit is None:
        return [Problem("time_limit", "missing", "缺少处置时限")]
    if not isinstance(limit, Mapping):
        return [Problem("time_limit", "bad_format", "处置时限应包含时长（value）和单位（unit）")]
    problems = []
    value, unit = limit.get("value"), limit.get("unit")
    if value is None:
        problems.append(Problem("time_limit.value", "missing", "缺少处置时限的时长"))
    elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(Problem("time_limit.value", "bad_format", f"处置时限“{value}”应为数字"))
    elif value <= 0:
        problems.append(Problem("time_limit.value", "not_positive", f"处置时限应大于 0，现为 {value}"))
    if unit is None or unit == "":
        problems.append(Problem("time_limit.unit", "missing", "缺少处置时限的单位"))
    elif unit not in LIMIT_UNITS:
        problems.append(Problem(
            "time_limit.unit", "unknown_value",
            f"时限单位“{unit}”不在可选值中（{'、'.join(LIMIT_UNITS)}）"))
    elif _text(row, "urgency") == "urgent" and unit not in NATURAL_LIMIT_UNITS:
        problems.append(Problem(
            "time_limit.unit", "inconsistent", "紧急事项的处置时限应按自然时间（自然小时或自然分钟）计"))
    return problems


def validate_matter_type(row: Mapping[str, Any]) -> list[Problem]:
    """Every problem of one catalog row (empty when the row is good)."""
    return (
        _check_present(row) + _check_values(row) + _check_code_and_classes(row)
        + _check_keywords(row) + _check_time_limit(row)
    )


def validate_catalog(rows: Sequence[Mapping[str, Any]]) -> list[RowProblem]:
    """Every problem of every row, plus a code used twice or a name used twice in one domain."""
    found: list[RowProblem] = []
    first_row_of: dict[tuple[str, ...], int] = {}
    for index, row in enumerate(rows):
        code, name = _text(row, "code"), _text(row, "name")
        found += [RowProblem(index, code, problem) for problem in validate_matter_type(row)]
        keys = []
        if code is not None:
            keys.append((("code", code), "code", f"事项编码“{code}”"))
        if name is not None:
            keys.append((("name", _text(row, "domain") or "", name), "name", f"事项名称“{name}”"))
        for key, field, label in keys:
            if key in first_row_of:
                found.append(RowProblem(index, code, Problem(
                    field, "duplicate", f"{label}与第 {first_row_of[key] + 1} 条重复")))
            else:
                first_row_of[key] = index
    return found


# --- duty matrix -------------------------------------------------------------------------

LOCAL_STREET: Final = "LOCAL_STREET"
FALLBACK_EXPLANATION: Final = "无匹配职责规则，属地街道兜底"


@dataclass(frozen=True)
class DutyRule:
    """Who handles a matter type, optionally only in a street, for an owner or in an area.

    `per_street_field_unit`: the case goes to the unit's field unit (派出机构) in the case's
    street, e.g. D002 → 东华门城管执法队 for a case in 东华门街道.
    """

    rule_id: str
    type_code: str
    unit_code: str
    street_code: str | None = None
    owner_code: str | None = None
    area: str | None = None
    per_street_field_unit: bool = False
    note: str = ""

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> "DutyRule":
        """From a duty-matrix JSON object (rule id under `id`)."""
        missing = [key for key in ("id", "type_code", "unit_code") if not row.get(key)]
        if missing:
            raise ValueError(f"duty rule {row!r} lacks {', '.join(missing)}")
        return cls(
            rule_id=row["id"], type_code=row["type_code"], unit_code=row["unit_code"],
            street_code=row.get("street_code") or None, owner_code=row.get("owner_code") or None,
            area=row.get("area") or None,
            per_street_field_unit=bool(row.get("per_street_field_unit", False)),
            note=row.get("note") or "",
        )

    def applies_to(
        self, *, type_code: str, street_code: str, owner_code: str | None, area: str | None,
    ) -> bool:
        return (
            self.type_code == type_code
            and (self.street_code is None or self.street_code == street_code)
            and (self.owner_code is None or self.owner_code == owner_code)
            and (self.area is None or self.area == area)
        )

    @property
    def specificity(self) -> tuple[int, bool, bool, bool]:
        """Sort key, greater is more specific: qualifier count, then owner > area > street."""
        has = (self.owner_code is not None, self.area is not None, self.street_code is not None)
        return (sum(has), *has)

    def describe_qualifiers(self) -> str:
        parts = []
        if self.owner_code:
            parts.append(f"权属单位 {self.owner_code}")
        if self.area:
            parts.append(f"区域 {self.area}")
        if self.street_code:
            parts.append(f"街道 {self.street_code}")
        return "限定" + "、".join(parts) if parts else "无附加限定"


@dataclass(frozen=True)
class Resolution:
    unit_code: str  # a department or utility code, or LOCAL_STREET
    per_street_field_unit: bool  # True: the unit's field unit in `street_code`
    street_code: str  # the case's street
    rule_id: str | None  # None only for the 属地兜底 fallback
    explanation: str

    @property
    def is_fallback(self) -> bool:
        return self.unit_code == LOCAL_STREET


def parse_duty_rules(rows: Iterable[Mapping[str, Any]]) -> list[DutyRule]:
    return [DutyRule.from_mapping(row) for row in rows]


def resolve_responsible_unit(
    rules: Iterable[DutyRule], *, type_code: str, street_code: str,
    owner_code: str | None = None, area: str | None = None,
    unit_names: Mapping[str, str] | None = None,
) -> Resolution:
    """The unit that handles a case of `type_code` in `street_code`, and the rule that says so.

    `unit_names` (code → short name) only makes the explanation friendlier.
    """
    applicable = [
        rule for rule in rules
        if rule.applies_to(type_code=type_code, street_code=street_code,
                           owner_code=owner_code, area=area)
    ]
    if not applicable:
        return Resolution(LOCAL_STREET, False, street_code, None, FALLBACK_EXPLANATION)
    winner = applicable[0]
    for rule in applicable[1:]:
        if rule.specificity > winner.specificity:  # strictly: earlier rule wins a full tie
            winner = rule
    names = unit_names or {}
    target = f"{winner.unit_code} {names[winner.unit_code]}" if winner.unit_code in names \
        else winner.unit_code
    if winner.per_street_field_unit:
        target += f" 在街道 {street_code} 的派出机构"
    explanation = (
        f"按职责规则 {winner.rule_id}（事项 {type_code}，{winner.describe_qualifiers()}）派至 {target}")
    if len(applicable) > 1:
        explanation += f"；{len(applicable)} 条规则适用，取限定条件最具体者"
    if winner.note:
        explanation += f"。说明：{winner.note}"
    return Resolution(
        winner.unit_code, winner.per_street_field_unit, street_code, winner.rule_id, explanation)


@dataclass(frozen=True)
class RuleProblem:
    rule_id: str
    problem: Problem


def validate_duty_rules(
    rules: Sequence[DutyRule], *, type_codes: Collection[str], unit_codes: Collection[str],
    field_unit_codes: Collection[str] = (), street_codes: Collection[str] | None = None,
    area_names: Collection[str] | None = None,
) -> list[RuleProblem]:
    """Every problem of a duty matrix against the known types, units, streets and areas.

    `field_unit_codes`: the units that have one field unit per street (may be targeted with
    `per_street_field_unit`). `street_codes` / `area_names` of None skip those checks.
    """
    found: list[RuleProblem] = []
    seen_ids: set[str] = set()
    seen_keys: dict[tuple, str] = {}

    def report(rule: DutyRule, field: str, code: str, message: str) -> None:
        found.append(RuleProblem(rule.rule_id, Problem(field, code, message)))

    for rule in rules:
        if rule.rule_id in seen_ids:
            report(rule, "id", "duplicate", f"规则编号 {rule.rule_id} 重复")
        seen_ids.add(rule.rule_id)
        if rule.type_code not in type_codes:
            report(rule, "type_code", "unknown_value", f"事项编码 {rule.type_code} 不在事项目录中")
        if rule.unit_code not in unit_codes:
            report(rule, "unit_code", "unknown_value", f"责任单位 {rule.unit_code} 不存在")
        elif rule.per_street_field_unit and rule.unit_code not in field_unit_codes:
            report(rule, "per_street_field_unit", "inconsistent",
                   f"单位 {rule.unit_code} 没有按街道设置的派出机构")
        if rule.owner_code is not None and rule.owner_code not in unit_codes:
            report(rule, "owner_code", "unknown_value", f"权属单位 {rule.owner_code} 不存在")
        if street_codes is not None and rule.street_code is not None \
                and rule.street_code not in street_codes:
            report(rule, "street_code", "unknown_value", f"街道 {rule.street_code} 不存在")
        if area_names is not None and rule.area is not None and rule.area not in area_names:
            report(rule, "area", "unknown_value", f"区域“{rule.area}”未定义")
        key = (rule.type_code, rule.street_code, rule.owner_code, rule.area)
        if key in seen_keys:
            report(rule, "type_code", "duplicate",
                   f"与规则 {seen_keys[key]} 的事项和限定条件完全相同，先出现者生效")
        else:
            seen_keys[key] = rule.rule_id
    return found
