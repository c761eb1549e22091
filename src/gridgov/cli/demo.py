import time
from collections.abc import Callable

import typer
from rich.table import Table

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.cases.channels import load_demo_channels
from gridgov.catalog.demo import load_demo_catalog
from gridgov.cli import app, console, database, domain_errors_exit_2
from gridgov.config import get_settings
from gridgov.demo import loader
from gridgov.demo.history import load_demo_history
from gridgov.grid.demo import load_demo_components, load_demo_grid
from gridgov.whistle.demo import load_demo_situations

demo_app = typer.Typer(help="东城区演示数据")
app.add_typer(demo_app, name="demo")


def _step(title: str, load: Callable[[], object], describe: Callable[[object], str]) -> None:
    started = time.perf_counter()
    result = load()
    said = describe(result) if result else "已存在，跳过"
    console.print(f"{title}：{said}（{time.perf_counter() - started:.1f} 秒）")


@demo_app.command("load")
@domain_errors_exit_2
def load(history: bool = typer.Option(True, help="同时生成近 45 天的演示案件")) -> None:
    """载入东城区演示数据：组织机构、网格、部件、事项目录与职责清单、渠道、吹哨情形、每个角色一个
    演示账号，以及近 45 天经真实流程办理的演示案件。

    已载入的部分跳过，可重复执行。"""
    target, settings = database(), get_settings()

    def organisation() -> int:
        with target.write() as db:
            return 0 if loader.demo_loaded(db) else loader.load_demo_organisation(db)

    def in_session(load_one: Callable) -> Callable[[], object]:
        def run() -> object:
            with target.write() as db:
                return load_one(db, actor=SYSTEM_ACTOR)
        return run

    def catalog(db, *, actor) -> tuple[int, int] | None:
        created = load_demo_catalog(db, actor=actor)
        return created if any(created) else None

    _step("组织机构", organisation, lambda n: f"{n} 个单位")
    _step("网格", in_session(load_demo_grid),
          lambda levels: "、".join(f"{level.label} {n:,}" for level, n in levels.items()))
    _step("部件", in_session(load_demo_components), lambda n: f"{n:,} 个")
    _step("事项目录与职责清单", in_session(catalog),
          lambda pair: f"{pair[0]} 个事项、{pair[1]} 条职责规则")
    _step("渠道", in_session(load_demo_channels), lambda n: f"{n} 个")
    _step("吹哨情形", in_session(load_demo_situations), lambda n: f"{n} 个")
    with target.write() as db:
        accounts = loader.load_demo_accounts(db, settings=settings)
    if history:
        _step("演示案件（近 45 天，经真实流程办理）", lambda: load_demo_history(target, settings=settings),
              lambda made: f"{made[0]} 件" + (f"，{made[1]} 步未能执行" if made[1] else ""))
    table = Table(title=f"演示账号（密码均为 {loader.DEMO_PASSWORD}）")
    for column in ("用户名", "角色", "单位编码", "姓名"):
        table.add_column(column)
    for account in accounts:
        table.add_row(account.username, account.role.label, account.unit_code, account.display_name)
    console.print(table)
