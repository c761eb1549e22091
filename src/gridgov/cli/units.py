from pathlib import Path

import typer

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.cli import app, console, database, domain_errors_exit_2, fail
from gridgov.org import excel, service

unit_app = typer.Typer(help="组织机构")
app.add_typer(unit_app, name="unit")


@unit_app.command("import")
@domain_errors_exit_2
def import_units(path: Path) -> None:
    """从 Excel 导入（新增或更新）单位；任何一行有错则整体不导入并列出所有错误。"""
    if not path.is_file():
        fail(f"文件不存在：{path}")
    rows, problems = excel.parse_units(path.read_bytes())
    with database().write() as db:
        created, updated = service.import_units(db, actor=SYSTEM_ACTOR, rows=rows,
                                                parse_problems=problems)
    console.print(f"导入完成：新增 {created}，更新 {updated}")


@unit_app.command("export")
def export_units(path: Path = typer.Argument(Path("组织机构.xlsx"))) -> None:
    """把全部单位导出为 Excel。"""
    with database().read() as db:
        path.write_bytes(excel.export_units(service.list_units(db)))
    console.print(f"已导出到 {path}")
