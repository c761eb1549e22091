from datetime import date
from itertools import groupby

import typer

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.calendar import service
from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.calendar.schemas import DayKind, DaySource
from gridgov.cli import app, console, database, domain_errors_exit_2, parse_instant
from gridgov.config import get_settings
from gridgov.errors import InvalidInput

calendar_app = typer.Typer(help="工作日历（法定节假日、调休与管理员补录）")
app.add_typer(calendar_app, name="calendar")

_SOURCE_LABELS = {DaySource.LIBRARY: "chinese-calendar 官方安排", DaySource.WEEKDAY: "管理员补录"}


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"日期格式应为 YYYY-MM-DD，收到 {text!r}") from None


@calendar_app.command("days")
@domain_errors_exit_2
def days(year: int) -> None:
    """一年的工作日统计：工作日天数、节假日、调休上班日。"""
    with database().read() as db:
        view = service.year_days(db, settings=get_settings(), year=year)
    console.print(
        f"{view.year} 年（{_SOURCE_LABELS[view.covered_by]}）：工作日 {view.working_days} 天"
        f"（其中调休上班 {view.makeup_days} 天），节假日 {view.holidays} 天，"
        f"管理员调整 {view.overrides} 天", highlight=False)
    holidays = [day for day in view.days if day.kind is DayKind.HOLIDAY]
    if holidays:
        console.print("节假日：")
    # Consecutive holiday days with the same name form one break.
    runs = groupby(enumerate(holidays), key=lambda item: (item[1].date.toordinal() - item[0],
                                                          item[1].name))
    for (_, name), items in runs:
        run = [day for _, day in items]
        first, last = run[0].date, run[-1].date
        span = f"{first}" if first == last else f"{first} — {last}"
        console.print(f"  {span}  {name or '休息'}（{len(run)} 天）", highlight=False)
    makeups = [day for day in view.days if day.kind is DayKind.MAKEUP]
    if makeups:
        console.print("调休上班：")
    for day in makeups:
        line = f"  {day.date} {day.weekday_label}  {day.name or ''}"
        console.print(line.rstrip(), highlight=False)


@calendar_app.command("set")
@domain_errors_exit_2
def set_override(
    day: str = typer.Argument(..., metavar="DATE", help="YYYY-MM-DD"),
    working: bool = typer.Option(..., "--working/--rest", help="上班（调休）或休息"),
    note: str | None = typer.Option(None, help="说明，如 2027年春节"),
) -> None:
    """补录或更正一天：上班或休息（优先于 chinese-calendar）。"""
    when = _parse_date(day)
    with database().write() as db:
        service.set_override(db, actor=SYSTEM_ACTOR, day=when, working=working, note=note)
    console.print(f"已设定 {when} 为{'上班' if working else '休息'}日" + (f"（{note}）" if note else ""),
                  highlight=False)


@calendar_app.command("unset")
@domain_errors_exit_2
def unset_override(day: str = typer.Argument(..., metavar="DATE", help="YYYY-MM-DD")) -> None:
    """删除一天的补录，恢复官方安排（或周一至周五规则）。"""
    when = _parse_date(day)
    with database().write() as db:
        service.delete_override(db, actor=SYSTEM_ACTOR, day=when)
    console.print(f"已删除 {when} 的补录", highlight=False)


@calendar_app.command("declare-year")
@domain_errors_exit_2
def declare_year(year: int, note: str | None = typer.Option(None, help="说明")) -> None:
    """声明某年已完整补录：该年未补录的日子按周一至周五上班计算。先补录节假日与调休。"""
    with database().write() as db:
        service.declare_year(db, actor=SYSTEM_ACTOR, year=year, note=note)
    console.print(f"已声明 {year} 年的工作日历补录完整", highlight=False)


@calendar_app.command("deadline")
@domain_errors_exit_2
def deadline(
    start: str = typer.Argument(..., help="带时区的开始时间，如 2026-02-13T16:00+08:00"),
    value: str = typer.Argument(..., help="时限数值，如 4 或 0.5"),
    unit: LimitUnit = typer.Argument(..., help="单位"),
) -> None:
    """计算时限到期时间，分别以 UTC 和本地时间显示。"""
    begin = parse_instant(start)
    limit = TimeLimit(value, unit)
    settings = get_settings()
    with database().read() as db:
        due = service.deadline(db, settings=settings, start=begin, limit=limit)
    console.print(f"开始：{begin.isoformat()}，时限：{limit}", highlight=False)
    console.print(f"期限（UTC）：{due.isoformat()}", highlight=False)
    console.print(f"期限（{settings.timezone}）：{due.astimezone(settings.tz).isoformat()}",
                  highlight=False)
