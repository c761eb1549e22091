import typer
from rich.table import Table

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth import service
from gridgov.auth.policy import Role
from gridgov.auth.schemas import UserIn
from gridgov.cli import app, console, database, domain_errors_exit_2
from gridgov.config import get_settings

user_app = typer.Typer(help="用户账号")
app.add_typer(user_app, name="user")


@user_app.command("create")
@domain_errors_exit_2
def create(
    username: str,
    unit: str = typer.Option(..., help="所属单位编码"),
    role: list[Role] = typer.Option(..., help="角色，可重复：" + ", ".join(r.value for r in Role)),
    name: str = typer.Option(..., help="姓名"),
    phone: str | None = typer.Option(None, help="电话"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 envvar="GRIDGOV_NEW_PASSWORD", help="密码（不少于 10 位，含字母和数字）"),
) -> None:
    """创建用户账号。"""
    with database().write() as db:
        user = service.create_user(db, settings=get_settings(), actor=SYSTEM_ACTOR, data=UserIn(
            username=username, display_name=name, password=password, unit_code=unit, roles=role,
            phone=phone))
        console.print(f"已创建用户 {user.username}（{user.unit.name}）")


@user_app.command("list")
def list_users(unit: str | None = typer.Option(None, help="只列出该单位")) -> None:
    """列出用户。"""
    with database().read() as db:
        table = Table()
        for column in ("用户名", "姓名", "单位", "角色", "状态"):
            table.add_column(column)
        for user in service.list_users(db, unit_code=unit):
            table.add_row(user.username, user.display_name, user.unit.name,
                          "、".join(r.label for r in sorted(user.roles)), "启用" if user.active else "停用")
        console.print(table)


@user_app.command("unlock")
@domain_errors_exit_2
def unlock(username: str) -> None:
    """解除因连续登录失败造成的锁定。"""
    with database().write() as db:
        service.unlock_user(db, actor=SYSTEM_ACTOR, username=username)
    console.print(f"已解锁 {username}")


