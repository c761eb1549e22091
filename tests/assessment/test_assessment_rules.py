from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from gridgov.assessment.rules import (
    DEFAULT_WEIGHTS, INDICATORS, Month, check_weights, composite, parse_month, ranking, score, weights_problems,
)
from gridgov.errors import InvalidInput
from gridgov.org.rules import UnitKind

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_default_weights_sum_to_100_for_every_kind():
    for kind, weights in DEFAULT_WEIGHTS.items():
        assert weights_problems(kind, weights) == [], kind


def test_a_weight_set_not_summing_to_100_is_refused_with_every_problem():
    with pytest.raises(InvalidInput) as refused:
        check_weights(UnitKind.STREET, {"closure_rate": 60, "rework_rate": 30})
    assert "合计须为 100%" in refused.value.detail
    problems = weights_problems(UnitKind.STREET, {"closure_rate": 50, "cases_closed": 10, "nope": 10,
                                                  "whistle_response": 10, "rework_rate": -5})
    assert {p["field"] for p in problems} == {"cases_closed", "nope", "whistle_response", "rework_rate"}
    assert check_weights(UnitKind.DEPARTMENT, {"closure_rate": "33.33", "rework_rate": "33.33",
                                               "return_rate": "33.34"}) == {
        "closure_rate": Decimal("33.33"), "rework_rate": Decimal("33.33"), "return_rate": Decimal("33.34")}


def test_scores_point_the_right_way_and_stay_within_0_and_100():
    assert score(INDICATORS["on_time_closure_rate"], Decimal("0.8")) == Decimal("80.000")
    assert score(INDICATORS["rework_rate"], Decimal("0.1")) == Decimal("90.000")
    assert score(INDICATORS["cases_due"], Decimal(12)) is None
    assert score(INDICATORS["whistle_rating"], Decimal("87.5")) == Decimal("87.500")
    assert score(INDICATORS["return_rate"], None) is None


def test_the_composite_shares_out_the_weight_of_indicators_without_cases():
    weights = {"closure_rate": Decimal(50), "rework_rate": Decimal(30), "return_rate": Decimal(20)}
    assert composite({"closure_rate": Decimal(80), "rework_rate": Decimal(100), "return_rate": Decimal(50)},
                     weights) == Decimal("80.000")
    assert composite({"closure_rate": Decimal(80), "rework_rate": None, "return_rate": Decimal(50)},
                     weights) == Decimal("71.429")  # (50·80 + 20·50) / 70
    assert composite({"closure_rate": None}, weights) is None


def test_ranking_shares_places_on_ties_and_leaves_units_without_a_score_unranked():
    assert ranking({1: Decimal(90), 2: Decimal(95), 3: Decimal(90), 4: None, 5: Decimal(80)}) == {
        2: 1, 1: 2, 3: 2, 5: 4, 4: None}


def test_months_are_local_and_may_not_lie_in_the_future():
    now = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 on 1 December in Beijing
    assert parse_month("2026-12", now=now, tz=SHANGHAI) == Month(2026, 12)
    with pytest.raises(InvalidInput) as refused:
        parse_month("2027-01", now=now, tz=SHANGHAI)
    assert refused.value.errors == [{"field": "month", "message": "在未来"}]
    start, end = Month(2026, 12).bounds(SHANGHAI)
    assert start.astimezone(UTC) == datetime(2026, 11, 30, 16, tzinfo=UTC) and end.month == 1
    assert Month(2026, 1).previous() == Month(2025, 12)
