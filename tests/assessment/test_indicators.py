"""Every indicator against figures worked out by hand on a small fixed month (November 2026),
built row by row; the drill-down opens exactly the cases behind each figure."""

from decimal import Decimal

import pytest

from gridgov.assessment import service
from gridgov.assessment.rules import Month
from tests.assessment.rows import Rows, at

NOV = Month(2026, 11)


def build_november(db) -> dict[str, int]:
    """Seven cases; the comments give the sets each one is in (D002 = 城管执法局 and its field
    unit D002-01 东华门城管执法队; D001 = 城管委; 110101001 = 东华门街道 and its section K01)."""
    r = Rows(db)
    # 1 hotline → D002-01: received in time, handled in time, closed; callback resolved, satisfied.
    c1 = r.case(responsible="D002-01", closed_at=at(11, 5), close_kind="normal")
    r.assign(c1, "D002-01", at(11, 3), ended_at=at(11, 5), end_reason="normal")
    r.clock(c1, "receipt", "D002-01", at(11, 3), at(11, 3, 3), finished=at(11, 3, 2, 30), overdue=False)
    r.clock(c1, "handling", "D002-01", at(11, 3), at(11, 5), finished=at(11, 4), overdue=False)
    r.event(c1, "report_result", at(11, 4), unit="D002-01")
    r.callback(c1, at(11, 6), resolved=True, satisfaction="satisfied")
    # 2 hotline → D002: receipt late; handled late, reworked, handled again in time, closed;
    #   callback unresolved, unsatisfied.
    c2 = r.case(responsible="D002", closed_at=at(11, 21), close_kind="normal", rework_count=1)
    r.assign(c2, "D002", at(11, 10), ended_at=at(11, 21), end_reason="normal")
    r.clock(c2, "receipt", "D002", at(11, 10), at(11, 10, 3), finished=at(11, 10, 6), overdue=True)
    r.clock(c2, "handling", "D002", at(11, 10), at(11, 12), finished=at(11, 13), overdue=True)
    r.event(c2, "report_result", at(11, 13), unit="D002")
    r.event(c2, "rework", at(11, 14), unit="110101000")
    r.clock(c2, "handling", "D002", at(11, 14), at(11, 20), finished=at(11, 19), overdue=False)
    r.event(c2, "report_result", at(11, 19), unit="D002")
    r.callback(c2, at(11, 22), resolved=False, satisfaction="unsatisfied")
    # 3 → D002-01, returned the same day, re-dispatched to D001, which holds it past its
    #   extended deadline.
    c3 = r.case(responsible="D001", status="received", channel="snapshot", return_count=1, holder="D001")
    r.assign(c3, "D002-01", at(11, 15), ended_at=at(11, 15, 4), end_reason="returned")
    r.clock(c3, "handling", "D002-01", at(11, 15), at(11, 17), finished=at(11, 15, 4), overdue=False)
    r.event(c3, "return_to_district", at(11, 15, 4), unit="D002-01")
    r.assign(c3, "D001", at(11, 16))
    r.clock(c3, "handling", "D001", at(11, 16), at(11, 25), extended=True)
    # 4 → D002-01 in October, handled late in November, force-closed.
    c4 = r.case(responsible="D002-01", closed_at=at(11, 9), close_kind="forced", reported_at=at(10, 19))
    r.assign(c4, "D002-01", at(10, 20), ended_at=at(11, 9), end_reason="forced")
    r.clock(c4, "handling", "D002-01", at(10, 20), at(11, 2), finished=at(11, 8), overdue=True)
    r.event(c4, "report_result", at(11, 8), unit="D002-01")
    # 5 wechat → the street, passed to its section, handled in time, closed.
    c5 = r.case(responsible="110101001", closed_at=at(11, 8), close_kind="normal", channel="wechat")
    r.assign(c5, "110101001", at(11, 5), ended_at=at(11, 8), end_reason="normal")
    r.assign(c5, "110101001-K01", at(11, 5, 3), depth=2, ended_at=at(11, 8), end_reason="normal")
    r.clock(c5, "handling", "110101001", at(11, 5), at(11, 7), finished=at(11, 6), overdue=False)
    r.event(c5, "report_result", at(11, 6), unit="110101001-K01")
    # 6 → D002-01, suspended before its deadline: dispatched, but not due.
    c6 = r.case(responsible="D002-01", status="suspended", channel="wechat", holder="D002-01")
    r.assign(c6, "D002-01", at(11, 20))
    r.clock(c6, "handling", "D002-01", at(11, 20), at(11, 22), paused=at(11, 21))
    # 7 → D002-01 in December: outside the month altogether.
    c7 = r.case(responsible="D002-01", status="received", reported_at=at(12, 1, 1), holder="D002-01")
    r.assign(c7, "D002-01", at(12, 1, 1))
    r.clock(c7, "handling", "D002-01", at(12, 1, 1), at(12, 3))
    db.commit()
    return {f"c{i}": c.id for i, c in enumerate((c1, c2, c3, c4, c5, c6, c7), start=1)}


def _figures(result, code):
    unit = next(u for u in result.units if u.code == code)
    return unit, {k: (f.numerator, f.denominator, f.value) for k, f in unit.figures.items()}


def test_indicators_match_the_hand_computed_month(world, world_settings, frozen):
    with world.write() as db:
        ids = build_november(db)
    with world.read() as db:
        result = service.compute(db, settings=world_settings, month=NOV)
    d002, f = _figures(result, "D002")
    third, two_thirds = Decimal("0.333333"), Decimal("0.666667")
    assert f["cases_dispatched"][0] == 4  # 1, 2, 3, 6
    assert f["return_rate"] == (1, 4, Decimal("0.25"))  # 3
    assert f["hotline_response_rate"] == (1, 2, Decimal("0.5"))  # 1 of 1, 2
    assert f["cases_due"][0] == 3  # 1, 2, 4 (3's clock of D002-01 is not its latest; 6 is paused)
    assert f["closure_rate"] == (3, 3, Decimal(1))
    assert f["on_time_closure_rate"] == (2, 3, two_thirds)  # 4 was late and forced
    assert f["overdue_count"][0] == 1 and f["overdue_rate"] == (1, 3, third)
    assert f["extension_rate"] == (0, 3, Decimal(0))
    assert f["on_time_handling_rate"] == (1, 3, third)  # 1; 2 had a late round, 4 was late
    assert f["rework_rate"] == (1, 3, third)  # 2
    assert f["cases_closed"][0] == 3 and f["forced_closures"][0] == 1
    assert f["forced_closure_rate"] == (1, 3, third)
    assert f["hotline_resolution_rate"] == (1, 2, Decimal("0.5"))
    assert f["hotline_satisfaction_rate"] == (1, 2, Decimal("0.5"))
    assert f["whistle_response"][2] is None and f["whistle_rating"][2] is None  # no whistles
    # Σ wᵢsᵢ / Σ wᵢ over the 80 % of weight that applies (the whistle's 20 % has no data):
    # (10·100 + 15·66.667 + 15·33.333 + 5·66.667 + 5·75 + 5·66.667 + 5·100 + 5·66.667 + 15·50) / 80
    assert d002.composite == Decimal("64.063") and d002.rank == 1

    d001, f = _figures(result, "D001")
    assert f["cases_dispatched"][0] == 1 and f["return_rate"] == (0, 1, Decimal(0))
    assert f["cases_due"][0] == 1 and f["overdue_rate"] == (1, 1, Decimal(1))
    assert f["extension_rate"] == (1, 1, Decimal(1)) and f["closure_rate"] == (0, 1, Decimal(0))
    assert f["on_time_handling_rate"] == (0, 0, None) and f["hotline_response_rate"] == (0, 0, None)
    assert d001.composite == Decimal("12.500") and d001.rank == 2  # (5·100) / (10 + 15 + 5 + 5 + 5)

    street, f = _figures(result, "110101001")
    assert f["cases_dispatched"][0] == 1 and f["on_time_handling_rate"] == (1, 1, Decimal(1))
    assert f["on_time_closure_rate"] == (1, 1, Decimal(1)) and street.composite == Decimal(100)
    untouched = next(u for u in result.units if u.code == "D003")
    assert untouched.composite is None and untouched.rank is None

    with world.read() as db:
        def behind(code, indicator, part="numerator"):
            d = service.drilldown(db, settings=world_settings, principal=_admin(db), month_text="2026-11",
                                  unit_code=code, indicator=indicator, part=part)
            return sorted(c for c, _, _ in d.cases)
        assert behind("D002", "return_rate") == [ids["c3"]]
        assert behind("D002", "return_rate", "denominator") == sorted(ids[c] for c in ("c1", "c2", "c3", "c6"))
        assert behind("D002", "on_time_handling_rate") == [ids["c1"]]
        assert behind("D002", "rework_rate") == [ids["c2"]]
        assert behind("D002", "overdue_count") == [ids["c4"]]
        assert behind("D002", "hotline_satisfaction_rate") == [ids["c1"]]
        assert behind("D001", "extension_rate") == [ids["c3"]]
        assert behind("110101001", "on_time_closure_rate") == [ids["c5"]]


def _admin(db):
    from sqlalchemy import select

    from gridgov.auth import service as auth
    from gridgov.auth.models import User
    return auth.principal_for(db, db.scalar(select(User).where(User.username == "admin")))


@pytest.mark.parametrize("text", ["2026-13", "26-11", "2026/11", ""])
def test_a_malformed_month_is_refused(text, world, world_settings, frozen):
    from gridgov.errors import InvalidInput
    with world.read() as db, pytest.raises(InvalidInput):
        service.preview(db, settings=world_settings, month_text=text)


def _whistle_score(unit_id, role, **figures):
    from gridgov.whistle.assessment import WhistleScore
    base = dict(unit_id=unit_id, unit_code="", unit_name="", role=role, whistles=0, summons=0, assessed=0,
                on_time=0, late=0, missed=0, on_time_rate=None, responsiveness=None, ratings={},
                rating_average=None, rated=0, open=0, overdue=0, closed=0, cancelled=0, score=None)
    return WhistleScore(**(base | figures))


def test_the_whistle_modules_scores_join_the_composite(world, world_settings, frozen, monkeypatch):
    """A department's field unit is summoned in its own name: its figures join the department's,
    weighted by summons; the street's whistles give its 吹哨闭环率."""
    import gridgov.whistle.assessment as whistle
    with world.write() as db:
        build_november(db)
        r = Rows(db)
        scores = {r.unit("D002"): _whistle_score(r.unit("D002"), "department", assessed=1, responsiveness=100.0,
                                                 rated=1, rating_average=5.0),
                  r.unit("D002-01"): _whistle_score(r.unit("D002-01"), "department", assessed=3,
                                                    responsiveness=60.0, rated=1, rating_average=3.0),
                  r.unit("110101001"): _whistle_score(r.unit("110101001"), "street", whistles=4, closed=3)}
    monkeypatch.setattr(whistle, "whistle_scores", lambda db, *, start, end: scores)
    with world.read() as db:
        result = service.compute(db, settings=world_settings, month=NOV)
    d002, f = _figures(result, "D002")
    assert f["whistle_response"] == (4, None, Decimal("70.00"))  # (1·100 + 3·60) / 4
    assert f["whistle_rating"] == (2, None, Decimal("75.00"))  # ratings 5 and 3 → 100 and 50
    # 64.063 before, over 80 % of the weight; now (5125.005 + 10·70 + 10·75) / 100
    assert result.whistle_included and d002.composite == Decimal("65.750")
    street, f = _figures(result, "110101001")
    assert f["whistle_closure"] == (4, None, Decimal("75.00"))
    # no 12345 case, no callback: (65·100 + 5·75) / 70 over the street's weights that apply
    assert street.composite == Decimal("98.214")
