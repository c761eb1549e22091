from pathlib import Path

import typer
from rich.table import Table

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.catalog import excel, service
from gridgov.catalog.rules import DOMAIN_NAMES
from gridgov.cli import app, console, database, domain_errors_exit_2, fail

catalog_app = typer.Typer(help="事项目录与职责清单")
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("import")
@domain_errors_exit_2
def import_catalog(path: Path) -> None:
    """从 Excel 导入事项目录和职责清单；任何一行有错则整体不导入并列出所有错误。"""
    if not path.is_file():
        fail(f"文件不存在：{path}")
    data = excel.parse_catalog(path.read_bytes())
    with database().write() as db:
        report = service.import_catalog(db, actor=SYSTEM_ACTOR, data=data)
    console.print(
        f"导入完成：事项新增 {report.types_created}，新版本 {report.types_versioned}，"
        f"未变 {report.types_unchanged}；职责规则新增 {report.rules_created}，"
        f"更新 {report.rules_updated}，未变 {report.rules_unchanged}", highlight=False)


@catalog_app.command("export")
@domain_errors_exit_2
def export_catalog(path: Path = typer.Argument(Path("事项目录.xlsx"))) -> None:
    """把现行事项目录和全部职责规则导出为 Excel。"""
    with database().read() as db:
        path.write_bytes(excel.export_catalog(service.snapshot(db)))
    console.print(f"已导出到 {path}", highlight=False)


@catalog_app.command("stats")
@domain_errors_exit_2
def stats() -> None:
    """现行事项数：按监管领域、按默认分级；职责规则数。"""
    with database().read() as db:
        figures = service.stats(db)
    table = Table(title=f"现行事项 {figures.types} 个（已停用 {figures.retired} 个）")
    table.add_column("监管领域")
    table.add_column("事项数", justify="right")
    for code, count in figures.per_domain.items():
        table.add_row(f"{DOMAIN_NAMES[code]} ({code})", str(count))
    console.print(table)
    grades = Table(title="按默认分级")
    grades.add_column("分级")
    grades.add_column("事项数", justify="right")
    for grade, count in figures.per_grade.items():
        grades.add_row(grade, str(count))
    console.print(grades)
    console.print(f"职责规则 {figures.rules} 条，其中启用 {figures.active_rules} 条", highlight=False)


@catalog_app.command("duty")
@domain_errors_exit_2
def duty(
    type_code: str = typer.Argument(..., metavar="TYPE_CODE"),
    street_code: str = typer.Argument(..., metavar="STREET_CODE"),
    owner: str | None = typer.Option(None, "--owner", help="部件权属单位编码"),
    area: str | None = typer.Option(None, "--area", help="区域名称，如 王府井步行街"),
) -> None:
    """某事项在某街道由谁处置，以及依据哪条职责规则。"""
    with database().read() as db:
        answer = service.resolve_duty(db, type_code=type_code, street_code=street_code,
                                      owner_code=owner, area=area)
    console.print(f"{answer.unit_code} {answer.unit_name}", highlight=False)
    console.print(answer.explanation, highlight=False)
