import typer
import uvicorn

from gridgov.app import create_app
from gridgov.cli import app, fail
from gridgov.config import get_settings
from gridgov.observability import configure_logging
from gridgov.serving import Server, Supervisor, listening_socket


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址"),
    port: int = typer.Option(8000, help="端口"),
    workers: int = typer.Option(
        1, min=1, help="进程数（每核一个）：各进程有自己的监听套接字，新连接由内核均分；SQLite 亦可多进程"),
) -> None:
    """启动 Web 界面和 API。"""
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if workers > 1:
        try:
            listening_socket(host, port).close()  # a port another program holds: refused once, here
        except OSError as exc:
            fail(f"无法监听 {host}:{port}：{exc.strerror or exc}")
        raise typer.Exit(Supervisor(host, port, workers).run())
    Server(uvicorn.Config(create_app(settings), host=host, port=port, log_config=None)).run()
