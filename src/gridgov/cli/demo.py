import typer
from rich.table import Table

from gridgov.cli import app, console, database, domain_errors_exit_2
from gridgov.config import get_settings
from gridgov.demo import loader

demo_app = typer.Typer(help="东城区演示数据")
app.add_typer(demo_app, name="demo")


@demo_app.command("load")
@domain_errors_exit_2
def load() -> None:
    """载入东城区演示组织机构和每个角色一个演示账号（已载入的部分跳过）。"""
    target = database()
    with target.write() as db:
        if loader.demo_loaded(db):
            console.print("演示组织机构已存在，跳过。")
        else:
            console.print(f"已载入演示组织机构：{loader.load_demo_organisation(db)} 个单位")
    with target.write() as db:
        accounts = loader.load_demo_accounts(db, settings=get_settings())
    table = Table(title=f"演示账号（密码均为 {loader.DEMO_PASSWORD}）")
    for column in ("用户名", "角色", "单位编码", "姓名"):
        table.add_column(column)
    for account in accounts:
        table.add_row(account.username, account.role.label, account.unit_code, account.display_name)
    console.print(table)
