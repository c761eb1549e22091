from decimal import Decimal

import pytest

from gridgov.feedback.rules import (
    ReplyWay, Satisfaction, callback_problems, reply_way_problem, sample_bucket, sampled_as, share_problem,
)


def test_sampling_takes_every_hotline_case_and_a_reproducible_share_of_the_others():
    assert sampled_as(channel="hotline_12345", case_number="20260000001", share_percent=Decimal(0)) == "hotline"
    numbers = [f"2026{i:07d}" for i in range(4000)]
    taken = [n for n in numbers if sampled_as(channel="wechat", case_number=n, share_percent=Decimal(10))]
    assert 320 < len(taken) < 480  # about 10 %
    assert taken == [n for n in numbers if sample_bucket(n) < 1000]  # anyone can recompute it
    assert all(sampled_as(channel="wechat", case_number=n, share_percent=Decimal(100)) for n in numbers[:50])
    assert not any(sampled_as(channel="wechat", case_number=n, share_percent=Decimal(0)) for n in numbers)


def test_callback_outcomes_must_fit_whether_the_call_got_through():
    assert callback_problems(reached=True, resolved=True, satisfaction="satisfied") == []
    assert [p["field"] for p in callback_problems(reached=True, resolved=None, satisfaction=None)] == [
        "resolved", "satisfaction"]
    assert callback_problems(reached=False, resolved=None, satisfaction=None) == []
    assert [p["field"] for p in callback_problems(reached=False, resolved=False, satisfaction=None)] == ["resolved"]


def test_the_rating_scale_takes_codes_and_chinese_labels_only():
    assert Satisfaction.parse("基本满意") is Satisfaction.BASIC and Satisfaction.parse("satisfied").counts_as_satisfied
    assert not Satisfaction.UNSATISFIED.counts_as_satisfied
    with pytest.raises(ValueError):
        Satisfaction.parse("非常满意")


def test_a_reply_way_needs_the_means_to_reach_the_reporter():
    assert reply_way_problem(ReplyWay.PHONE, phone=None, user_id=7)
    assert reply_way_problem(ReplyWay.PLATFORM, phone="138", user_id=None)
    assert reply_way_problem(ReplyWay.IN_PERSON, phone=None, user_id=None) is None


@pytest.mark.parametrize("value, ok", [("10", True), ("0", True), ("100", True), ("12.5", True),
                                       ("-1", False), ("101", False), ("1.234", False), ("x", False)])
def test_sampling_share(value, ok):
    assert (share_problem(value) is None) is ok
