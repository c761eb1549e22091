"""系统管理 · 节假日: the working calendar of a year (chinese-calendar plus overrides), one day's
override set or removed, a whole year's official arrangement entered at once (rest days and
make-up working days, for a year chinese-calendar does not know yet), and declaring a year
complete. Every change goes through `gridgov.calendar.service`."""

import calendar as month_calendar
import re
from datetime import date

from fastapi import APIRouter, Request

from gridgov import clock
from gridgov.auth.policy import Action
from gridgov.calendar import service
from gridgov.calendar.models import CalendarOverrideYear
from gridgov.calendar.sources import library_years
from gridgov.http import SessionDep, SettingsDep
from gridgov.web.forms import FormDep, FormState, shown_on
from gridgov.web.pages.admin import admin_page, done
from gridgov.web.session import WebUser, page_for

router = APIRouter(prefix="/admin/calendar")
MANAGE = page_for(Action.CONFIG_MANAGE)
WORKING_OPTIONS = [("false", "休息日（节假日）"), ("true", "工作日（调休上班）")]
_DAY = r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
ARRANGEMENT_LINE = re.compile(rf"^{_DAY}(?:\s*(?:~|～|至|--|–|—)\s*{_DAY})?\s*(.*)$")
MAX_RANGE_DAYS = 31
MAX_NOTE = 100


def _this_year(settings) -> int:
    return clock.utcnow().astimezone(settings.tz).year


def _months(days) -> list[dict]:
    """The year's days as month grids (weeks from Monday; None pads the first and last week)."""
    by_date = {d.date: d for d in days}
    year = days[0].date.year
    months = []
    for month in range(1, 13):
        weeks = [[by_date.get(day) if day.month == month else None for day in week]
                 for week in month_calendar.Calendar().monthdatescalendar(year, month)]
        months.append({"month": month, "weeks": weeks})
    return months


def _page(request: Request, db, settings, user: WebUser, year: int, *,
          day_form: FormState | None = None, arrangement: FormState | None = None,
          declare_form: FormState | None = None):
    forms = [day_form or FormState(values={"working": "false"}), arrangement or FormState(),
             declare_form or FormState()]
    covered = service.working_calendar(db, settings=settings).covered_years
    library = library_years()
    declared = {row.year: row for row in service.list_override_years(db)}
    year_days = service.year_days(db, settings=settings, year=year) if year in covered else None
    special = [d for d in year_days.days if d.source == "override" or d.kind in ("holiday", "makeup")
               ] if year_days else []
    return admin_page(request, "admin/calendar.html", {
        "year": year, "year_days": year_days, "months": _months(year_days.days) if year_days else [],
        "special": special, "overrides": service.list_overrides(db, year=year),
        "in_library": year in library, "library_first": library.start,
        "library_last": library.stop - 1, "declared": declared.get(year),
        "declared_years": sorted(declared), "working_options": WORKING_OPTIONS,
        "day_form": forms[0], "arrangement": forms[1], "declare_form": forms[2],
        "min_year": service.MIN_YEAR, "max_year": service.MAX_YEAR,
    }, user=user, status_code=200 if all(f.ok for f in forms) else 422)


@router.get("")
def calendar_page(request: Request, db: SessionDep, settings: SettingsDep, year: int | None = None,
                  user: WebUser = MANAGE):
    year = year if year and service.MIN_YEAR <= year <= service.MAX_YEAR else _this_year(settings)
    return _page(request, db, settings, user, year)


def _year_of(form, settings) -> int:
    text = form.get("year")
    year = int(text) if text.isdigit() else _this_year(settings)
    return year if service.MIN_YEAR <= year <= service.MAX_YEAR else _this_year(settings)


@router.post("/days")
def set_day(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
            user: WebUser = MANAGE):
    state = FormState(values={name: form.get(name) for name in ("day", "working", "note")})
    year = _year_of(form, settings)
    try:
        day = date.fromisoformat(form.get("day"))
    except ValueError:
        state.add("day", "请选择日期")
    if form.get("working") not in ("true", "false"):
        state.add("working", "请选择工作日或休息日")
    if state.ok:
        with shown_on(state, db):
            service.set_override(db, actor=user.acting(Action.CONFIG_MANAGE).actor, day=day,
                                 working=form.get("working") == "true", note=form.get("note"))
            return done(f"/admin/calendar?year={day.year}", "saved")
    return _page(request, db, settings, user, year, day_form=state)


@router.post("/days/{day}/delete")
def delete_day(request: Request, day: date, db: SessionDep, settings: SettingsDep,
               user: WebUser = MANAGE):
    state = FormState(values={"working": "false"})
    with shown_on(state, db):
        service.delete_override(db, actor=user.acting(Action.CONFIG_MANAGE).actor, day=day)
        return done(f"/admin/calendar?year={day.year}", "deleted")
    return _page(request, db, settings, user, day.year, day_form=state)


def parse_arrangement(text: str, year: int, field: str,
                      state: FormState) -> dict[date, str | None]:
    """Days of `year` listed one per line — `2027-02-06 春节` or a range
    `2027-02-06~2027-02-12 春节` — with their note; each bad line is a problem of `field`."""
    days: dict[date, str | None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = ARRANGEMENT_LINE.match(line.strip())
        try:
            assert match is not None
            first = date(*map(int, match.group(1, 2, 3)))
            last = date(*map(int, match.group(4, 5, 6))) if match.group(4) else first
        except (AssertionError, ValueError):
            state.add(field, f"第 {number} 行“{line.strip()}”应为 日期 或 日期~日期，后接说明")
            continue
        note = match.group(7).strip() or None
        span = (last - first).days + 1
        if first.year != year or last.year != year:
            state.add(field, f"第 {number} 行的日期不在 {year} 年")
        elif not 1 <= span <= MAX_RANGE_DAYS:
            state.add(field, f"第 {number} 行的日期范围应从早到晚，且不超过 {MAX_RANGE_DAYS} 天")
        elif note and len(note) > MAX_NOTE:
            state.add(field, f"第 {number} 行的说明超过 {MAX_NOTE} 个字")
        else:
            days.update({date.fromordinal(first.toordinal() + i): note for i in range(span)})
    return days


def _arrangement_problems(db, year: int, rest: dict, working: dict, declare: bool,
                          state: FormState) -> None:
    """What would refuse the arrangement part-way, found before anything is written."""
    for day in sorted(rest.keys() & working.keys()):
        state.add("working_days", f"{day.isoformat()} 同时列为休息日和调休上班日")
    if not rest and not working:
        state.add("rest_days", "请至少填写一个休息日或调休上班日")
    final = {row.day: row.working for row in service.list_overrides(db, year=year)}
    final |= {day: False for day in rest} | {day: True for day in working}
    needs_holidays = declare or db.get(CalendarOverrideYear, year) is not None
    if declare and year in library_years():
        state.add("declare", f"{year} 年已由 chinese-calendar 提供，无需声明")
    elif needs_holidays and not any(not w and d.weekday() < 5 for d, w in final.items()):
        state.add("rest_days", f"{year} 年没有落在周一至周五的休息日：请填写元旦、春节等法定节假日")


@router.post("/arrangement")
def enter_arrangement(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
                      user: WebUser = MANAGE):
    """A year's official arrangement at once: every day is checked first, then the whole
    arrangement (and the declaration, if asked) is entered in one transaction."""
    year = _year_of(form, settings)
    declare = form.get("declare") == "true"
    state = FormState(values={"rest_days": form.get("rest_days"),
                              "working_days": form.get("working_days"),
                              "declare": "true" if declare else ""})
    rest = parse_arrangement(form.get("rest_days"), year, "rest_days", state)
    working = parse_arrangement(form.get("working_days"), year, "working_days", state)
    if state.ok:
        _arrangement_problems(db, year, rest, working, declare, state)
    if state.ok:
        with shown_on(state, db):
            service.enter_arrangement(db, actor=user.acting(Action.CONFIG_MANAGE).actor, year=year,
                                      rest_days=rest, working_days=working, declare=declare)
            return done(f"/admin/calendar?year={year}", "declared" if declare else "arranged")
    return _page(request, db, settings, user, year, arrangement=state)


@router.post("/declare")
def declare_year(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
                 user: WebUser = MANAGE):
    year = _year_of(form, settings)
    state = FormState(values={"declare_note": form.get("declare_note")})
    with shown_on(state, db):
        service.declare_year(db, actor=user.acting(Action.CONFIG_MANAGE).actor, year=year,
                             note=form.get("declare_note"))
        return done(f"/admin/calendar?year={year}", "declared")
    return _page(request, db, settings, user, year, declare_form=state)
