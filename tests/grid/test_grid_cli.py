"""`gridgov grid …` and `gridgov component …`: output and exit codes (bad input: 2)."""

import json

import pytest
from typer.testing import CliRunner

from gridgov.cli import app, register_commands
from gridgov.config import get_settings
from tests.grid import small_grid
from tests.grid.small_grid import load_small_grid
from tests.helpers import small_org


def _runner(monkeypatch, url: str):
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "120")
    get_settings.cache_clear()
    register_commands()
    return lambda *args: CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def run_cli(monkeypatch, database):
    yield _runner(monkeypatch, database.url)
    get_settings.cache_clear()


@pytest.mark.xdist_group("grid-demo")
def test_stats_prints_the_demo_counts_and_areas(monkeypatch, demo_world):
    result = _runner(monkeypatch, demo_world.url)("grid", "stats")
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines()
             if line.count("│") > 2}
    for label, count in (("街道", "17"), ("社区", "177"), ("基础网格", "592"),
                         ("单元网格", "2,322")):
        cells = [c.strip() for c in lines[label].split("│")]
        assert cells[2] == count and cells[3] == "42.04"


def test_import_export_and_locate(run_cli, database, tmp_path):
    for level, build in small_grid.LEVELS.items():
        path = tmp_path / f"{level.value}.geojson"
        path.write_text(json.dumps(build()), encoding="utf-8")
        result = run_cli("grid", "import", path, "--level", level.value)
        assert result.exit_code == 0, result.output
    assert "版本 4" in result.output and "新增 8" in result.output

    out = tmp_path / "units-wgs.geojson"
    result = run_cli("grid", "export", "--level", "unit", "--out", out, "--crs", "wgs84")
    assert result.exit_code == 0 and "已导出 8 个单元网格" in result.output
    assert json.loads(out.read_text(encoding="utf-8"))["coordinate_system"] == "wgs84"
    again = run_cli("grid", "import", out, "--level", "unit")
    assert again.exit_code == 0, again.output
    assert "版本 5" in again.output and "注销 0" in again.output

    found = run_cli("grid", "locate", "116.419", "39.901")
    assert found.exit_code == 0 and "单元网格 110101002001004" in found.output
    outside = run_cli("grid", "locate", "116.5", "39.9")
    assert outside.exit_code == 2 and "不在管辖范围内" in outside.stderr
    assert "单元网格" in run_cli("grid", "versions").output


def test_a_bad_import_exits_2_listing_the_problems(run_cli, database, tmp_path):
    path = tmp_path / "streets.geojson"
    fc = small_grid.streets()
    fc["features"][1]["properties"]["code"] = "110101"
    path.write_text(json.dumps(fc), encoding="utf-8")
    result = run_cli("grid", "import", path, "--level", "street")
    assert result.exit_code == 2
    stderr = result.stderr.replace("\n", "")  # the console wraps long lines
    assert "未写入任何数据" in stderr and "第 2 个要素" in stderr
    missing = run_cli("grid", "import", tmp_path / "none.geojson", "--level", "street")
    assert missing.exit_code == 2 and "文件不存在" in missing.stderr
    conflict = run_cli("grid", "import", path, "--level", "street", "--crs", "wgs84")
    assert conflict.exit_code == 2 and "矛盾" in conflict.stderr
    assert run_cli("grid", "import", path, "--level", "nonsense").exit_code == 2


def test_component_import_export_and_nearest(run_cli, database, tmp_path):
    small_org(database)
    load_small_grid(database)
    path = tmp_path / "components.geojson"
    path.write_text(json.dumps({
        "type": "FeatureCollection", "coordinate_system": "gcj02", "features": [
            {"type": "Feature", "properties": {"code": "1101010118000001", "name": "路灯1",
                                               "owner_code": "D1", "status": "完好"},
             "geometry": {"type": "Point", "coordinates": [116.4015, 39.9085]}}]}),
        encoding="utf-8")
    result = run_cli("component", "import", path)
    assert result.exit_code == 0 and "新增 1" in result.output
    nearest = run_cli("component", "nearest", "116.4015", "39.9086", "--class", "0118")
    assert nearest.exit_code == 0 and "1101010118000001" in nearest.output
    xlsx = tmp_path / "components.xlsx"
    assert run_cli("component", "export", "--format", "xlsx", "--out", xlsx).exit_code == 0
    assert "未变 1" in run_cli("component", "import", xlsx).output
    bad = run_cli("component", "nearest", "116.4", "39.9", "--class", "77")
    assert bad.exit_code == 2 and "部件类别" in bad.stderr
