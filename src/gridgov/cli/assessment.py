from pathlib import Path

import typer
from rich.table import Table

from gridgov.assessment import excel, service
from gridgov.assessment.rules import KIND_SHEET_NAMES
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.cli import app, console, database, domain_errors_exit_2
from gridgov.config import get_settings

assessment_app = typer.Typer(help="月度考核：计算、发布、导出")
app.add_typer(assessment_app, name="assessment")


@assessment_app.command("run")
@domain_errors_exit_2
def run(month: str = typer.Option(..., "--month", help="YYYY-MM"),
        reason: str | None = typer.Option(None, "--reason", help="重新计算已发布月份时必填")) -> None:
    """计算某月考核，保存为该月的新版本（草稿）。"""
    settings = get_settings()
    with database().write() as db:
        row = service.run(db, settings=settings, actor=SYSTEM_ACTOR, month_text=month, reason=reason)
        console.print(f"{row.month} 第 {row.version} 版已计算（草稿）", highlight=False)
        _show(service.stored_result(db, row))


@assessment_app.command("publish")
@domain_errors_exit_2
def publish(month: str = typer.Option(..., "--month", help="YYYY-MM"),
            version: int = typer.Option(..., "--version", help="要发布的版本（须为最新版本）")) -> None:
    """发布（锁定）某月的最新版本；此前发布的版本被取代。"""
    with database().write() as db:
        row = service.publish(db, settings=get_settings(), actor=SYSTEM_ACTOR, month_text=month, version=version)
    console.print(f"{row.month} 第 {row.version} 版已发布", highlight=False)


@assessment_app.command("export")
@domain_errors_exit_2
def export(month: str = typer.Option(..., "--month", help="YYYY-MM"),
           version: int | None = typer.Option(None, "--version", help="默认：已发布版本，否则最新草稿"),
           path: Path | None = typer.Argument(None, help="默认：考核结果-YYYY-MM-vN.xlsx")) -> None:
    """把某月的考核结果导出为 Excel。"""
    with database().read() as db:
        row = service.get_run(db, settings=get_settings(), month_text=month, version=version)
        content = excel.workbook(service.stored_result(db, row), version=row.version, status=row.status)
    target = path or Path(f"考核结果-{row.month}-v{row.version}.xlsx")
    target.write_bytes(content)
    console.print(f"已导出到 {target}", highlight=False)


@assessment_app.command("show")
@domain_errors_exit_2
def show(month: str = typer.Option(..., "--month", help="YYYY-MM"),
         version: int | None = typer.Option(None, "--version")) -> None:
    """显示某月的考核排名（已发布版本，否则最新草稿）。"""
    with database().read() as db:
        row = service.get_run(db, settings=get_settings(), month_text=month, version=version)
        console.print(f"{row.month} 第 {row.version} 版（{row.status}）", highlight=False)
        _show(service.stored_result(db, row))


def _show(result: service.MonthResult) -> None:
    for kind, title in KIND_SHEET_NAMES.items():
        units = [u for u in result.units if u.kind is kind]
        if not units:
            continue
        table = Table(title=title)
        for column in ("排名", "单位", "综合得分"):
            table.add_column(column, justify="right" if column != "单位" else "left")
        for unit in units:
            table.add_row("—" if unit.rank is None else str(unit.rank), f"{unit.code} {unit.name}",
                          "—" if unit.composite is None else f"{unit.composite:.3f}")
        console.print(table)
