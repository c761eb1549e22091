from datetime import date
from decimal import Decimal

import pytest

from gridgov.analytics.rules import (
    Granularity, HotSpotClass, bucket_a_year_later, buckets, change, check_range, classify, percentile,
    suggested_limit,
)
from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.errors import InvalidInput


def test_buckets_cover_the_range_weeks_start_on_monday():
    assert buckets(date(2026, 11, 1), date(2026, 11, 10), Granularity.WEEK) == [
        "2026-10-26", "2026-11-02", "2026-11-09"]
    assert buckets(date(2025, 12, 30), date(2026, 2, 1), Granularity.MONTH) == ["2025-12", "2026-01", "2026-02"]
    assert len(buckets(date(2026, 2, 1), date(2026, 3, 1), Granularity.DAY)) == 29


def test_last_years_buckets_line_up_with_this_years():
    assert bucket_a_year_later("2025-11", Granularity.MONTH) == "2026-11"
    assert bucket_a_year_later("2025-11-03", Granularity.WEEK) == "2026-11-02"  # Monday to Monday
    assert bucket_a_year_later("2024-02-29", Granularity.DAY) == "2025-02-28"
    assert change(5, 4) == 0.25 and change(3, 0) is None


def test_ranges_are_checked():
    check_range(date(2026, 1, 1), date(2026, 1, 1), today=date(2026, 1, 1))
    for start, end in ((date(2026, 2, 1), date(2026, 1, 1)), (date(2026, 3, 1), date(2026, 3, 2)),
                       (date(2023, 1, 1), date(2026, 1, 1))):
        with pytest.raises(InvalidInput):
            check_range(start, end, today=date(2026, 2, 15))


def test_percentile_and_the_suggested_limit_rounded_up_to_the_units_step():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert percentile(values, 90) == pytest.approx(9.1)
    assert suggested_limit(values, LimitUnit.WORKING_HOURS) == TimeLimit(Decimal("9.5"), LimitUnit.WORKING_HOURS)
    assert suggested_limit([0.2] * 10, LimitUnit.WORKING_DAYS) == TimeLimit(Decimal("0.5"), LimitUnit.WORKING_DAYS)
    assert suggested_limit(values[:9], LimitUnit.WORKING_HOURS) is None  # too few cases to judge


def test_hot_spot_classes():
    assert classify(3.2, 0.001) is HotSpotClass.HOT_99
    assert classify(2.0, 0.04) is HotSpotClass.HOT_95
    assert classify(-1.8, 0.07) is HotSpotClass.COLD_90
    assert classify(1.0, 0.3) is HotSpotClass.NONE
