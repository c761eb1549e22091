import typer
import uvicorn

from gridgov.app import create_app
from gridgov.cli import app
from gridgov.config import get_settings
from gridgov.observability import configure_logging


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址"),
    port: int = typer.Option(8000, help="端口"),
    workers: int = typer.Option(1, help="进程数（每核一个；SQLite 亦可多进程，写入按批串行）"),
) -> None:
    """启动 Web 界面和 API。"""
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if workers > 1:
        uvicorn.run("gridgov.asgi:app", host=host, port=port, workers=workers, log_config=None)
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
