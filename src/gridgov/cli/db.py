import typer

from gridgov import migrate
from gridgov.cli import app, console, database

db_app = typer.Typer(help="数据库迁移 (Alembic)")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="目标版本")) -> None:
    """把数据库结构升级到最新版本。"""
    target = database()
    migrate.upgrade(target.engine, revision)
    console.print(f"数据库已升级到 {migrate.current_revision(target.engine)} ({target.dialect})")


@db_app.command("current")
def current() -> None:
    """显示数据库当前的结构版本。"""
    console.print(migrate.current_revision(database().engine) or "（空数据库）")
