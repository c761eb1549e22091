"""The `gridgov` command line. Bad input: a message on stderr and exit code 2."""

import sys
from datetime import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any

import typer
from rich.console import Console

from gridgov.config import get_settings
from gridgov.db import Database
from gridgov.errors import DomainError, InvalidInput

app = typer.Typer(help="gridgov 网格化城市管理平台", no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()
err_console = Console(stderr=True)


def database() -> Database:
    return Database(get_settings().resolved_database_url)


def fail(message: str, errors: list[dict] | None = None) -> None:
    err_console.print(f"[red]错误：[/red]{message}", highlight=False)
    for error in errors or []:
        where = " ".join(f"{k}={v}" for k, v in error.items() if k != "message")
        err_console.print(f"  - {where}: {error.get('message')}", highlight=False)
    raise typer.Exit(2)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset; a naive or malformed one is bad input."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"时间格式应为 ISO 8601，如 2026-02-13T16:00+08:00，收到 {text!r}") from None
    if instant.utcoffset() is None:
        raise InvalidInput(f"时间 {text!r} 没有时区；请写明偏移，如 {text}+08:00 或 {text}Z")
    return instant


def domain_errors_exit_2(func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            fail(exc.detail, exc.errors)

    return wrapper


def register_commands() -> None:
    """Import every module of this package: each adds its commands to `app`."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def main() -> None:
    register_commands()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
