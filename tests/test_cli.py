"""The command line: bad input on stderr with exit code 2."""

import pytest
from typer.testing import CliRunner

from gridgov.cli import app, register_commands
from gridgov.config import get_settings
from tests.helpers import small_org


@pytest.fixture
def run_cli(monkeypatch, database, settings):
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", database.url)
    monkeypatch.setenv("GRIDGOV_PASSWORD_HASH_PROFILE", "fast-for-tests")
    get_settings.cache_clear()
    register_commands()
    yield lambda *args, **kw: CliRunner().invoke(app, list(args), **kw)
    get_settings.cache_clear()


def test_user_create_makes_an_account(run_cli, database):
    small_org(database)
    result = run_cli("user", "create", "wang.min", "--unit", "DC", "--role", "intake", "--name", "王敏",
                     env={"GRIDGOV_NEW_PASSWORD": "Wangmin2026x"})
    assert result.exit_code == 0, result.output
    assert "wang.min" in run_cli("user", "list").output


def test_user_create_with_a_weak_password_exits_2_with_the_reason(run_cli, database):
    small_org(database)
    result = run_cli("user", "create", "wang.min", "--unit", "DC", "--role", "intake", "--name", "王敏",
                     env={"GRIDGOV_NEW_PASSWORD": "weak"})
    assert result.exit_code == 2
    assert "密码至少" in result.stderr


def test_unit_import_of_a_missing_file_exits_2(run_cli, tmp_path):
    result = run_cli("unit", "import", str(tmp_path / "none.xlsx"))
    assert result.exit_code == 2 and "文件不存在" in result.stderr


def test_unit_export_then_import_round_trips(run_cli, database, tmp_path):
    small_org(database)
    path = tmp_path / "units.xlsx"
    assert run_cli("unit", "export", str(path)).exit_code == 0
    result = run_cli("unit", "import", str(path))
    assert result.exit_code == 0 and "新增 0，更新 10" in result.output
