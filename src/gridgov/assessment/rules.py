"""Pure rules of the monthly assessment: the indicators and their formulas, months, weights,
scores, the composite and the ranking. No I/O.

Every indicator is built from *sets* of cases (or of callbacks) of one assessed unit in one
month; a rate is |numerator set| / |denominator set|, where the numerator set is a subset of
the denominator set, so every rate lies in [0, 1] and every figure opens the cases behind it.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from zoneinfo import ZoneInfo

from gridgov.errors import InvalidInput
from gridgov.org.rules import UnitKind

# The kinds of unit assessed: the units right under the district centre of these kinds.
ASSESSED_KINDS: tuple[UnitKind, ...] = (UnitKind.DEPARTMENT, UnitKind.STREET, UnitKind.OUTSIDE_BODY)
KIND_SHEET_NAMES = {UnitKind.DEPARTMENT: "职能部门", UnitKind.STREET: "街道", UnitKind.OUTSIDE_BODY: "公共服务企业"}


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


@dataclass(frozen=True)
class CaseSet:
    key: str
    label: str
    definition: str


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    numerator: str  # a CaseSet key
    denominator: str | None  # None: a count
    better: Better | None  # None: shown, not scored
    formula: str
    kinds: frozenset[UnitKind] = frozenset(ASSESSED_KINDS)
    source: str = "cases"  # cases | callbacks | whistle

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None

    @property
    def scored(self) -> bool:
        return self.better is not None


# U is an assessed unit; "of U" means "of U or any unit below it" (a department's field
# units and sections, a street's sub-centre, sections and communities). M is the month,
# [first day 00:00, first day of the next month 00:00) in local time.
CASE_SETS: dict[str, CaseSet] = {s.key: s for s in (
    CaseSet("dispatched", "派遣案件", "cases with a first-level dispatch (派遣 or 转街道吹哨: a depth-1 "
            "assignment) to U in M"),
    CaseSet("returned", "退回案件", "dispatched cases whose assignment to U ended by U's return (回退) to the district"),
    CaseSet("due", "应结案件", "cases whose latest handling clock, held by U and not paused, has its deadline in M"),
    CaseSet("due_closed", "应结已结案件", "due cases closed before the end of M (and still closed)"),
    CaseSet("due_on_time", "按期结案案件", "due cases closed before the end of M, not force-closed, whose "
            "latest handling clock finished within its deadline"),
    CaseSet("due_overdue", "超期案件", "due cases whose latest handling clock finished late, or is still "
            "running past its deadline"),
    CaseSet("due_extended", "延期案件", "due cases whose latest handling clock was extended (延期获批)"),
    CaseSet("handled", "处置案件", "cases whose handling U reported (处置反馈) in M: a handling clock of U "
            "finished by report_result in M"),
    CaseSet("handled_on_time", "按时处置案件", "handled cases none of whose handling clocks of U finished "
            "by report_result in M was late"),
    CaseSet("handled_reworked", "返工案件", "handled cases sent back after that report: rework (核查返工) "
            "or reopen (回访返工)"),
    CaseSet("closed", "结案案件", "cases whose responsible unit is of U, closed in M (normal, whistle or forced)"),
    CaseSet("closed_forced", "强制结案案件", "closed cases force-closed (强制结案)"),
    CaseSet("hotline_dispatched", "12345派遣案件", "dispatched 12345 cases with a receipt clock (签收)"),
    CaseSet("hotline_responded", "12345按时响应案件", "of those, the receipt clock of that dispatch finished "
            "within its limit (1 working hour)"),
    CaseSet("hotline_reached", "12345回访接通", "reached callbacks made in M to reporters of 12345 cases "
            "whose responsible unit is of U"),
    CaseSet("hotline_resolved", "12345回访已解决", "reached callbacks answering resolved (已解决)"),
    CaseSet("hotline_satisfied", "12345回访满意", "reached callbacks answering 满意 or 基本满意"),
    CaseSet("whistle_reports", "吹哨报到", "assessed summons of U (or its field units) in whistles started "
            "in M (from the whistle module; drill down there)"),
    CaseSet("whistle_rated", "吹哨评价", "summons of U rated by the streets in whistles started in M "
            "(from the whistle module)"),
    CaseSet("whistle_started", "街道吹哨", "whistles started by street U in M (from the whistle module)"),
)}

_DEPT = frozenset({UnitKind.DEPARTMENT})
_STREET = frozenset({UnitKind.STREET})
INDICATORS: dict[str, Indicator] = {i.key: i for i in (
    Indicator("cases_dispatched", "派遣案件数", "dispatched", None, None, "派遣案件数 = |dispatched|"),
    Indicator("cases_due", "应结案件数", "due", None, None, "应结案件数 = |due|"),
    Indicator("cases_closed", "结案数", "closed", None, None, "结案数 = |closed|"),
    Indicator("closure_rate", "结案率", "due_closed", "due", Better.HIGHER, "结案率 = |due_closed| / |due|"),
    Indicator("on_time_closure_rate", "按期结案率", "due_on_time", "due", Better.HIGHER,
              "按期结案率 = |due_on_time| / |due|"),
    Indicator("on_time_handling_rate", "按时处置率", "handled_on_time", "handled", Better.HIGHER,
              "按时处置率 = |handled_on_time| / |handled|"),
    Indicator("rework_rate", "返工率", "handled_reworked", "handled", Better.LOWER,
              "返工率 = |handled_reworked| / |handled|"),
    Indicator("return_rate", "退回率", "returned", "dispatched", Better.LOWER, "退回率 = |returned| / |dispatched|"),
    Indicator("overdue_count", "超期案件数", "due_overdue", None, None, "超期案件数 = |due_overdue|"),
    Indicator("overdue_rate", "超期率", "due_overdue", "due", Better.LOWER, "超期率 = |due_overdue| / |due|"),
    Indicator("extension_rate", "延期率", "due_extended", "due", Better.LOWER, "延期率 = |due_extended| / |due|"),
    Indicator("forced_closures", "强制结案数", "closed_forced", None, None, "强制结案数 = |closed_forced|"),
    Indicator("forced_closure_rate", "强制结案率", "closed_forced", "closed", Better.LOWER,
              "强制结案率 = |closed_forced| / |closed|"),
    Indicator("hotline_response_rate", "12345响应率", "hotline_responded", "hotline_dispatched", Better.HIGHER,
              "响应率 = |hotline_responded| / |hotline_dispatched|"),
    Indicator("hotline_resolution_rate", "12345解决率", "hotline_resolved", "hotline_reached", Better.HIGHER,
              "解决率 = |hotline_resolved| / |hotline_reached|", source="callbacks"),
    Indicator("hotline_satisfaction_rate", "12345满意率", "hotline_satisfied", "hotline_reached", Better.HIGHER,
              "满意率 = |hotline_satisfied| / |hotline_reached|", source="callbacks"),
    Indicator("whistle_response", "报到响应度", "whistle_reports", None, Better.HIGHER,
              "报到响应度 = the average responsiveness (0–100) of U's assessed summons (field units "
              "included, weighted by their assessed summons), from the whistle module", kinds=_DEPT,
              source="whistle"),
    Indicator("whistle_rating", "街道评价", "whistle_rated", None, Better.HIGHER,
              "街道评价 = (r − 1) / 4 × 100, r the average of the streets' four ratings of U (报到效率、"
              "配合度、专业性、担当意识, 1–5; field units weighted by their rated summons), from the whistle "
              "module", kinds=_DEPT, source="whistle"),
    Indicator("whistle_closure", "吹哨闭环率", "whistle_started", None, Better.HIGHER,
              "吹哨闭环率 = whistles of street U started in M and closed / started × 100, from the whistle "
              "module", kinds=_STREET, source="whistle"),
)}

# Default weights (percent; each kind's sum is 100) until an administrator sets others.
DEFAULT_WEIGHTS: dict[UnitKind, dict[str, Decimal]] = {
    UnitKind.DEPARTMENT: {k: Decimal(v) for k, v in {
        "closure_rate": 10, "on_time_closure_rate": 15, "on_time_handling_rate": 15, "rework_rate": 5,
        "return_rate": 5, "overdue_rate": 5, "extension_rate": 5, "forced_closure_rate": 5,
        "hotline_response_rate": 5, "hotline_resolution_rate": 5, "hotline_satisfaction_rate": 5,
        "whistle_response": 10, "whistle_rating": 10}.items()},
    UnitKind.STREET: {k: Decimal(v) for k, v in {
        "closure_rate": 10, "on_time_closure_rate": 15, "on_time_handling_rate": 15, "rework_rate": 5,
        "return_rate": 5, "overdue_rate": 5, "extension_rate": 5, "forced_closure_rate": 5,
        "hotline_response_rate": 10, "hotline_resolution_rate": 10, "hotline_satisfaction_rate": 10,
        "whistle_closure": 5}.items()},
    UnitKind.OUTSIDE_BODY: {k: Decimal(v) for k, v in {
        "closure_rate": 10, "on_time_closure_rate": 20, "on_time_handling_rate": 15, "rework_rate": 5,
        "return_rate": 5, "overdue_rate": 5, "extension_rate": 5, "forced_closure_rate": 5,
        "hotline_response_rate": 10, "hotline_resolution_rate": 10, "hotline_satisfaction_rate": 10}.items()},
}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
HUNDRED = Decimal(100)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> "Month":
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self) -> "Month":
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the month in local time, as aware instants."""
        return (datetime.combine(self.first_day, time(), tzinfo=tz),
                datetime.combine(self.next().first_day, time(), tzinfo=tz))


def month_of(text: str, *, field: str = "month") -> Month:
    """'2026-11' → Month; 422 for anything else."""
    match = _MONTH.match(str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise InvalidInput(f"月份格式应为 YYYY-MM：{text}", errors=[{"field": field, "message": "格式错误"}])
    return Month(int(match.group(1)), int(match.group(2)))


def parse_month(text: str, *, now: datetime, tz: ZoneInfo, field: str = "month") -> Month:
    """'2026-11' → Month; 422 for a malformed month or one that has not begun."""
    month = month_of(text, field=field)
    if month.bounds(tz)[0] > now:
        raise InvalidInput(f"{month} 尚未开始，不能考核未来的月份", errors=[{"field": field, "message": "在未来"}])
    return month


def month_ended(month: Month, *, now: datetime, tz: ZoneInfo) -> bool:
    return month.bounds(tz)[1] <= now


def weights_problems(kind: UnitKind, weights: Mapping[str, object]) -> list[dict]:
    """Every problem of a weight set for a kind of unit: unknown or unscored indicators,
    indicators not assessed for the kind, negative or malformed weights, a sum other than 100 %."""
    problems: list[dict] = []
    total = Decimal(0)
    for key, raw in weights.items():
        indicator = INDICATORS.get(key)
        if indicator is None:
            problems.append({"field": key, "message": "未知指标"})
            continue
        if not indicator.scored:
            problems.append({"field": key, "message": f"“{indicator.label}”是计数，不计分，不能设权重"})
            continue
        if kind not in indicator.kinds:
            problems.append({"field": key, "message": f"“{indicator.label}”不考核{kind.label}"})
            continue
        try:
            weight = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            problems.append({"field": key, "message": "权重必须是数字"})
            continue
        if not weight.is_finite() or weight < 0 or weight > 100 or weight != weight.quantize(Decimal("0.01")):
            problems.append({"field": key, "message": "权重须在 0–100 之间，最多两位小数"})
            continue
        total += weight
    if not problems and total != HUNDRED:
        problems.append({"field": "weights", "message": f"权重合计须为 100%，现为 {total}%"})
    return problems


def check_weights(kind: UnitKind, weights: Mapping[str, object]) -> dict[str, Decimal]:
    if problems := weights_problems(kind, weights):
        raise InvalidInput("权重设置不符合要求：" + "；".join(f"{p['field']} {p['message']}" for p in problems),
                           errors=problems)
    return {key: Decimal(str(value)) for key, value in weights.items() if Decimal(str(value)) != 0}


def rate(numerator: int, denominator: int | None) -> Decimal | None:
    """numerator / denominator, 6 places; None when nothing is in the denominator."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.000001"))


def score(indicator: Indicator, value: Decimal | None) -> Decimal | None:
    """0–100: a rate × 100 where higher is better, (1 − rate) × 100 where lower is better;
    whistle scores are already 0–100. None when not applicable (no cases, not scored)."""
    if value is None or not indicator.scored:
        return None
    if indicator.source == "whistle":
        points = Decimal(value)
    elif indicator.better is Better.HIGHER:
        points = Decimal(value) * HUNDRED
    else:
        points = (1 - Decimal(value)) * HUNDRED
    return min(max(points, Decimal(0)), HUNDRED).quantize(Decimal("0.001"))


def composite(scores: Mapping[str, Decimal | None], weights: Mapping[str, Decimal]) -> Decimal | None:
    """Σ wᵢ·sᵢ / Σ wᵢ over the weighted indicators that apply (sᵢ not None): weights of
    indicators without cases are shared out among the rest. None when none applies."""
    applicable = [(weights[key], scores[key]) for key in weights if scores.get(key) is not None]
    total = sum((w for w, _ in applicable), Decimal(0))
    if not total:
        return None
    return (sum((w * s for w, s in applicable), Decimal(0)) / total).quantize(Decimal("0.001"))


def ranking(composites: Mapping[int, Decimal | None]) -> dict[int, int | None]:
    """Competition ranking (1, 2, 2, 4) by composite, highest first; None without a composite."""
    ordered = sorted(((c, u) for u, c in composites.items() if c is not None), key=lambda x: -x[0])
    ranks: dict[int, int | None] = dict.fromkeys(composites)
    previous, previous_rank = None, 0
    for position, (value, unit) in enumerate(ordered, start=1):
        rank = previous_rank if value == previous else position
        ranks[unit] = rank
        previous, previous_rank = value, rank
    return ranks
