import typer

from gridgov.audit import service
from gridgov.cli import app, console, database, err_console

audit_app = typer.Typer(help="审计留痕")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify() -> None:
    """重新计算审计哈希链，报告第一处被篡改、插入或删除的事件（退出码 1）。"""
    with database().read() as db:
        report = service.verify(db)
    if report.intact:
        console.print(f"审计链完整：{report.events_checked} 个事件，链头哈希 {report.head_hash}")
        return
    broken = report.first_break
    err_console.print(f"[red]审计链被破坏[/red]：事件 #{broken.seq}（{broken.kind}）— {broken.detail}",
                      highlight=False)
    err_console.print(f"此前 {report.events_checked} 个事件完好。")
    raise typer.Exit(1)
