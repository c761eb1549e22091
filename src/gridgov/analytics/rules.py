"""Pure rules of the analysis: buckets and year-on-year, hot-spot classes, percentiles and
suggested limits. No I/O."""

import math
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.errors import InvalidInput

MAX_RANGE_DAYS = 731


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"  # Monday to Sunday, labelled by its Monday
    MONTH = "month"


class Dimension(StrEnum):
    DOMAIN = "domain"
    TYPE = "type"
    CHANNEL = "channel"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


def check_range(start: date, end: date, *, today: date) -> None:
    """A range of local dates, both inclusive: in order, not beyond today, at most two years."""
    problems = []
    if end < start:
        problems.append({"field": "end", "message": "结束日期早于开始日期"})
    if start > today:
        problems.append({"field": "start", "message": "开始日期在未来"})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        problems.append({"field": "end", "message": f"时间范围最长 {MAX_RANGE_DAYS} 天"})
    if problems:
        raise InvalidInput("时间范围无效", errors=problems)


def one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def bucket_a_year_later(label: str, granularity: Granularity) -> str:
    """The label of the bucket a year later that a last-year bucket compares with."""
    if granularity is Granularity.MONTH:
        year, month = label.split("-")
        return f"{int(year) + 1:04d}-{month}"
    day = date.fromisoformat(label)
    if granularity is Granularity.WEEK:
        return (day + timedelta(weeks=52)).isoformat()
    try:
        return day.replace(year=day.year + 1).isoformat()
    except ValueError:
        return day.replace(year=day.year + 1, day=28).isoformat()


def buckets(start: date, end: date, granularity: Granularity) -> list[str]:
    """Every bucket label from start to end (inclusive), so that empty buckets show as 0."""
    labels: list[str] = []
    if granularity is Granularity.MONTH:
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            labels.append(f"{year:04d}-{month:02d}")
            year, month = year + (month == 12), month % 12 + 1
        return labels
    day = start - timedelta(days=start.weekday()) if granularity is Granularity.WEEK else start
    step = timedelta(weeks=1) if granularity is Granularity.WEEK else timedelta(days=1)
    while day <= end:
        labels.append(day.isoformat())
        day += step
    return labels


def change(current: int, previous: int) -> float | None:
    """Year-on-year change (current − previous) / previous; None when there was nothing before."""
    if not previous:
        return None
    return round((current - previous) / previous, 4)


class HotSpotClass(StrEnum):
    HOT_99 = "hot_99"
    HOT_95 = "hot_95"
    HOT_90 = "hot_90"
    COLD_99 = "cold_99"
    COLD_95 = "cold_95"
    COLD_90 = "cold_90"
    NONE = "not_significant"

    @property
    def label(self) -> str:
        return {"hot_99": "热点（99%置信）", "hot_95": "热点（95%置信）", "hot_90": "热点（90%置信）",
                "cold_99": "冷点（99%置信）", "cold_95": "冷点（95%置信）", "cold_90": "冷点（90%置信）",
                "not_significant": "不显著"}[self.value]


def classify(z: float, p: float) -> HotSpotClass:
    """Gi* bins as in common GIS practice: the sign of z, and p under 0.01 / 0.05 / 0.10."""
    if math.isnan(z) or math.isnan(p):
        return HotSpotClass.NONE
    for level, hot, cold in ((0.01, HotSpotClass.HOT_99, HotSpotClass.COLD_99),
                             (0.05, HotSpotClass.HOT_95, HotSpotClass.COLD_95),
                             (0.10, HotSpotClass.HOT_90, HotSpotClass.COLD_90)):
        if p < level:
            return hot if z > 0 else cold
    return HotSpotClass.NONE


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), linear between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# Suggested limits are rounded up to a step natural for the unit.
_STEPS = {LimitUnit.WORKING_MINUTES: Decimal(5), LimitUnit.NATURAL_MINUTES: Decimal(5),
          LimitUnit.WORKING_HOURS: Decimal("0.5"), LimitUnit.NATURAL_HOURS: Decimal(1),
          LimitUnit.WORKING_DAYS: Decimal("0.5"), LimitUnit.NATURAL_DAYS: Decimal("0.5")}


def suggested_limit(durations: Sequence[float], unit: LimitUnit, *, q: float = 90,
                    minimum_sample: int = 10) -> TimeLimit | None:
    """The q-th percentile of actual handling times (in the type's own unit), rounded up to
    the unit's step; None with fewer than `minimum_sample` handled cases."""
    if len(durations) < minimum_sample:
        return None
    step = _STEPS[unit]
    value = Decimal(str(max(percentile(durations, q), 0)))
    rounded = (value / step).to_integral_value(rounding=ROUND_CEILING) * step
    return TimeLimit(max(rounded, step), unit)
