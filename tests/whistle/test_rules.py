"""Pure rules of the whistle: the responsiveness formula with exact numbers, deadlines and
cut-offs on the working calendar, ratings, the transition table, the combined scores."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gridgov.calendar.rules import LimitUnit, TimeLimit, WorkingCalendar
from gridgov.errors import Conflict, InvalidInput
from gridgov.whistle import rules
from gridgov.whistle.rules import (
    Assessment, SummonsStatus, WhistleStatus, check_transition, cutoff, department_score,
    ended_without_report_in, rating_problems, report_in_deadline, responsiveness, score_report_in, street_score,
)
from gridgov.whistle.service import EFFECTS

CALENDAR = WorkingCalendar.official()
D = Decimal


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("lateness", "limit", "expected"), [
    ("-5", "30", "100.0"),  # early
    ("0", "30", "100.0"),  # exactly at the deadline
    ("1", "30", "98.3"),  # 100 × (1 − 1/60) = 98.33…
    ("15", "30", "75.0"),
    ("30", "30", "50.0"),  # twice the limit
    ("45", "30", "25.0"),
    ("59", "30", "1.7"),  # 1.666… rounds half up to one decimal
    ("60", "30", "0.0"),  # three times the limit: nothing left
    ("600", "30", "0.0"),
    ("0.9", "4", "88.8"),  # 88.75 → 88.8 (half up)
    ("0.6923", "1", "65.4"),  # 4.5 of 6.5 working hours late on a 1-working-day limit
])
def test_responsiveness_falls_linearly_to_zero_at_three_times_the_limit(lateness, limit, expected):
    assert responsiveness(D(lateness), D(limit)) == D(expected)
    assert str(responsiveness(D(lateness), D(limit))) == expected


def test_a_limit_must_be_positive():
    with pytest.raises(ValueError):
        responsiveness(D(1), D(0))


def test_lateness_counts_working_time_for_working_limits():
    limit = TimeLimit(2, LimitUnit.WORKING_HOURS)
    deadline = utc(2026, 12, 1, 4, 0)  # Tue 12:00 in Beijing, the end of the morning period
    late = score_report_in(CALENDAR, deadline=deadline, reported_at=utc(2026, 12, 1, 6, 30), limit=limit)
    assert (late.lateness, late.responsiveness, late.assessment) == (D(1), D("75.0"), Assessment.LATE)
    lunch = score_report_in(CALENDAR, deadline=deadline, reported_at=utc(2026, 12, 1, 4, 45), limit=limit)
    assert (lunch.lateness, lunch.responsiveness, lunch.assessment) == (D(0), D("100.0"), Assessment.ON_TIME)
    natural = score_report_in(CALENDAR, deadline=utc(2026, 12, 1, 2, 30), reported_at=utc(2026, 12, 1, 2, 45),
                              limit=TimeLimit(30, LimitUnit.NATURAL_MINUTES))
    assert (natural.lateness, natural.responsiveness) == (D(15), D("75.0"))


def test_deadline_runs_on_the_working_calendar_or_waits_for_the_assembly():
    friday_4pm = utc(2026, 12, 4, 8, 0)
    two_hours = TimeLimit(2, LimitUnit.WORKING_HOURS)
    # Fri 16:00–17:00 and Mon 09:00–10:00
    assert report_in_deadline(CALENDAR, sent_at=friday_4pm, limit=two_hours, assemble_at=None) == utc(2026, 12, 7, 2)
    monday_2pm = utc(2026, 12, 7, 6, 0)
    assert report_in_deadline(CALENDAR, sent_at=friday_4pm, limit=two_hours, assemble_at=monday_2pm) == monday_2pm
    early = utc(2026, 12, 4, 8, 30)
    assert report_in_deadline(CALENDAR, sent_at=friday_4pm, limit=two_hours, assemble_at=early) == utc(2026, 12, 7, 2)
    # the cut-off is two more limits after the deadline
    assert cutoff(CALENDAR, deadline=utc(2026, 12, 1, 2, 30), limit=TimeLimit(30, "natural_minutes")) == \
        utc(2026, 12, 1, 3, 30)
    assert cutoff(CALENDAR, deadline=utc(2026, 12, 2, 2, 5), limit=TimeLimit(1, "working_days")) == \
        utc(2026, 12, 4, 2, 5)


def test_a_summons_without_report_in_is_missed_only_past_its_deadline():
    deadline = utc(2026, 12, 1, 2, 30)
    assert ended_without_report_in(sent=True, deadline=deadline, ended_at=utc(2026, 12, 1, 2, 31)) is Assessment.MISSED
    assert ended_without_report_in(sent=True, deadline=deadline, ended_at=deadline) is Assessment.WITHDRAWN
    assert ended_without_report_in(sent=False, deadline=None, ended_at=deadline) is Assessment.WITHDRAWN


def test_ratings_are_whole_marks_one_to_five_with_a_comment_for_low_marks():
    assert rating_problems({"efficiency": 5, "cooperation": 4, "professionalism": 3, "responsibility": 5}) == []
    low = rating_problems({"efficiency": 2, "cooperation": 3, "professionalism": 1, "responsibility": 3})
    assert low == [{"field": "comment", "message": "报到效率、专业性评分不高于 2 分，须填写评价说明"}]
    assert rating_problems({"efficiency": 2, "cooperation": 3, "professionalism": 1, "responsibility": 3,
                            "comment": "到场晚，处置不专业"}) == []
    bad = rating_problems({"efficiency": 0, "cooperation": 6, "professionalism": 3.5, "responsibility": True},
                          prefix="ratings[0].")
    assert [p["field"] for p in bad] == ["ratings[0].efficiency", "ratings[0].cooperation",
                                         "ratings[0].professionalism", "ratings[0].responsibility"]
    assert [p["field"] for p in rating_problems({"efficiency": 5})] == [
        "cooperation", "professionalism", "responsibility"]


def test_the_transition_table_refuses_wrong_states_and_missing_fields():
    assert check_transition("summon", status=WhistleStatus.FILED, payload={}).target == WhistleStatus.SUMMONED
    with pytest.raises(Conflict):
        check_transition("summon", status=WhistleStatus.CLOSED, payload={})
    with pytest.raises(Conflict):
        check_transition("report_in", status=WhistleStatus.SUMMONED, summons_status=SummonsStatus.DONE,
                         payload={"summons_id": 1, "place": "x", "leader": "x", "headcount": 1})
    with pytest.raises(InvalidInput) as missing:
        check_transition("report_in", status=WhistleStatus.SUMMONED, summons_status=SummonsStatus.SENT,
                         payload={"summons_id": 1, "place": ""})
    assert [e["field"] for e in missing.value.errors] == ["place", "leader", "headcount"]
    with pytest.raises(InvalidInput):
        check_transition("cancel", status=WhistleStatus.FILED, payload={})
    with pytest.raises(InvalidInput):
        check_transition("nope", status=WhistleStatus.FILED, payload={})
    # every step has its effect, and a final state has no way out
    assert set(EFFECTS) == set(rules.TRANSITIONS)
    assert not any(rules.FINAL_WHISTLE_STATES & t.sources for t in rules.TRANSITIONS.values())


@pytest.mark.parametrize(("responsive", "rating", "expected"), [
    ("75.0", "4.00", "75.00"),  # 0.6 × 75 + 0.4 × (4 − 1) × 25
    ("100.0", "5.00", "100.00"),
    ("0.0", "1.00", "0.00"),
    ("87.5", "4.25", "85.00"),  # 52.5 + 0.4 × 81.25
    ("58.3", None, "58.30"),  # no ratings yet: responsiveness alone
    (None, "3.00", "50.00"),
    (None, None, None),
])
def test_department_score_combines_responsiveness_and_ratings(responsive, rating, expected):
    score = department_score(D(responsive) if responsive else None, D(rating) if rating else None)
    assert score == (D(expected) if expected else None)


def test_street_score_is_the_share_of_whistles_closed():
    assert street_score(closed=2, whistles=3) == D("66.67")
    assert street_score(closed=0, whistles=0) is None
