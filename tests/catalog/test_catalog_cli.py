"""`gridgov catalog`: import, export, stats, duty; bad input exits 2."""

import pytest
from typer.testing import CliRunner

from gridgov.cli import app, register_commands
from gridgov.config import get_settings

from .builders import mini_catalog


@pytest.fixture
def run_cli(monkeypatch, database, settings):
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", database.url)
    get_settings.cache_clear()
    register_commands()
    yield lambda *args: CliRunner().invoke(app, list(args))
    get_settings.cache_clear()


def test_export_then_import_changes_nothing(run_cli, database, tmp_path):
    mini_catalog(database)
    path = tmp_path / "catalog.xlsx"
    assert run_cli("catalog", "export", str(path)).exit_code == 0
    result = run_cli("catalog", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "事项新增 0，新版本 0，未变 3" in result.output


def test_stats_counts_types_per_domain_and_grade(run_cli, database):
    mini_catalog(database)
    result = run_cli("catalog", "stats")
    assert result.exit_code == 0, result.output
    assert "现行事项 3 个" in result.output and "城市管理" in result.output
    assert "职责规则 3 条" in result.output


def test_duty_prints_the_unit_and_the_rule(run_cli, database):
    mini_catalog(database)
    result = run_cli("catalog", "duty", "C010102", "S1", "--owner", "W1")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("W1 ") and "R0003" in result.output


def test_bad_input_exits_2_with_the_reason(run_cli, database, tmp_path):
    mini_catalog(database)
    missing = run_cli("catalog", "import", str(tmp_path / "none.xlsx"))
    assert missing.exit_code == 2 and "文件不存在" in missing.stderr
    unknown = run_cli("catalog", "duty", "C999999", "S1")
    assert unknown.exit_code == 2 and "C999999" in unknown.stderr
    (tmp_path / "bad.xlsx").write_bytes(b"not excel")
    bad = run_cli("catalog", "import", str(tmp_path / "bad.xlsx"))
    assert bad.exit_code == 2 and "Excel" in bad.stderr
