from datetime import date, timedelta
from pathlib import Path

import typer

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.cli import app, console, database, domain_errors_exit_2, fail
from gridgov.config import get_settings
from gridgov.whistle import assessment, situations
from gridgov.whistle.rules import AREA_LABELS, RATING_LABELS
from gridgov.whistle.service import local_day_start

whistle_app = typer.Typer(help="街道吹哨、部门报到")
situations_app = typer.Typer(help="吹哨情形和标准")
whistle_app.add_typer(situations_app, name="situations")
app.add_typer(whistle_app, name="whistle")


@situations_app.command("import")
@domain_errors_exit_2
def import_situations(path: Path) -> None:
    """从 Excel 导入吹哨情形；任何一行有错则整体不导入并列出所有错误。"""
    if not path.is_file():
        fail(f"文件不存在：{path}")
    data = situations.parse_workbook(path.read_bytes())
    with database().write() as db:
        report = situations.import_situations(db, actor=SYSTEM_ACTOR, data=data)
    console.print(f"导入完成：新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}", highlight=False)


@situations_app.command("export")
@domain_errors_exit_2
def export_situations(path: Path = typer.Argument(Path("吹哨情形.xlsx"))) -> None:
    """把全部吹哨情形（含已停用的）导出为 Excel。"""
    with database().read() as db:
        path.write_bytes(situations.export_workbook(db))
    console.print(f"已导出到 {path}", highlight=False)


@situations_app.command("stats")
@domain_errors_exit_2
def situation_stats() -> None:
    """现行吹哨情形数，按领域。"""
    with database().read() as db:
        counts = situations.counts_by_area(db)
    for area, label in AREA_LABELS.items():
        console.print(f"{label}：{counts[area.value]} 项", highlight=False)
    console.print(f"合计 {sum(counts.values())} 项", highlight=False)


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


@whistle_app.command("scores")
@domain_errors_exit_2
def scores(
    start: str = typer.Option(..., "--from", help="首日（本地日期，如 2026-11-01）"),
    end: str = typer.Option(..., "--to", help="末日（含）"),
    streets: bool = typer.Option(False, "--streets", help="按街道，而不是按部门"),
) -> None:
    """一哨一考：时段内（按吹哨时间）各部门或各街道的报到响应度、评价和综合得分。"""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        fail("日期格式应为 YYYY-MM-DD")
    if last < first:
        fail("结束日期不能早于开始日期")
    settings = get_settings()
    begin, finish = local_day_start(first, settings), local_day_start(last + timedelta(days=1), settings)
    role = assessment.STREET if streets else assessment.DEPARTMENT
    with database().read() as db:
        figures = assessment.unit_figures(db, role=role, start=begin, end=finish)
    console.print(f"{'街道' if streets else '部门'}吹哨考核（按吹哨时间）{first} 至 {last}", highlight=False)
    for f in figures:
        rate = "—" if f.on_time_rate is None else f"{f.on_time_rate:.0%}"
        ratings = " ".join(f"{label} {_number(f.ratings[p], 2)}" for p, label in RATING_LABELS.items())
        console.print(
            f"{f.unit_code} {f.unit_name}：吹哨 {f.whistles}，应哨 {f.summons}（按时 {f.on_time}、超时 {f.late}、"
            f"未报到 {f.missed}，按时率 {rate}），响应度 {_number(f.responsiveness)}，评价 {ratings}，"
            f"未办结 {f.open}，超时未报到 {f.overdue}，得分 {_number(f.score, 2)}", highlight=False, soft_wrap=True)
    if not figures:
        console.print("该时段没有吹哨", highlight=False)
