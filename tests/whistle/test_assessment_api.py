"""一哨一考 through the API: figures per department and per street with exact numbers, the
whistles behind each figure, and the scores the monthly assessment calls."""

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from gridgov.cli import app, register_commands
from gridgov.config import get_settings
from gridgov.org.models import Unit
from gridgov.whistle import assessment
from tests.cases.conftest import START
from tests.cases.flow import sign_in
from tests.whistle.flow import direct, finish, rating, report_in, step, users

DAY = {"from": "2026-12-01", "to": "2026-12-01"}


def _two_whistles(api, frozen) -> tuple[dict, dict, dict]:
    """A: 公安 15 min late, 房管 on time, 城管委 never came; closed. B: 公安 on time, 城管执法局
    not reported in yet; open."""
    u = users(api)
    a = direct(api, u["street"], "YJ01", "D012", "D011", "D001")  # 30 minutes
    a = step(api, u["dispatcher"], a, "summon")
    frozen.advance(minutes=30)
    a = report_in(api, u["housing"], a, "D011")
    frozen.advance(minutes=15)
    a = report_in(api, u["police"], a, "D012")
    a = finish(api, u["police"], a, "D012")
    a = finish(api, u["housing"], a, "D011")
    frozen.advance(minutes=50)  # +95: past 城管委's cut-off (+90)
    a = step(api, u["street"], a, "report_outcome", outcome="积水已排除",
             ratings=[rating(a, "D012", (4, 4, 3, 5)), rating(a, "D011"),
                      rating(a, "D001", (1, 1, 1, 1), comment="未报到")])
    frozen.advance(minutes=5)  # +100
    a = step(api, u["dispatcher"], a, "close", note="核查通过")
    b = direct(api, u["street"], "YJ03", "D012", "D002")  # 树木倒伏: 30 minutes
    b = step(api, u["dispatcher"], b, "summon")
    frozen.advance(minutes=10)  # +110
    b = report_in(api, u["police"], b, "D012")
    frozen.advance(minutes=30)  # +140: 城管执法局 10 minutes past its deadline
    return u, a, b


def test_figures_per_department_and_street_open_the_whistles_behind_them(api, whistle_world, frozen):
    u, a, b = _two_whistles(api, frozen)
    figures = api.get("/api/v1/whistles/assessment/departments", headers=u["leader"], params=DAY).json()
    assert figures["start"] == "2026-11-30T16:00:00Z" and figures["end"] == "2026-12-01T16:00:00Z"
    units = {f["unit_code"]: f for f in figures["units"]}
    assert list(units) == ["D001", "D002", "D011", "D012"]
    assert units["D012"] == {
        "unit_code": "D012", "unit_name": "公安分局", "role": "department", "whistles": 2, "summons": 2,
        "assessed": 2, "on_time": 1, "late": 1, "missed": 0, "on_time_rate": 0.5, "responsiveness": 87.5,
        "ratings": {"efficiency": 4.0, "cooperation": 4.0, "professionalism": 3.0, "responsibility": 5.0},
        "rating_average": 4.0, "rated": 1, "open": 1, "overdue": 0, "closed": 1, "cancelled": 0,
        "score": 82.5}  # 0.6 × 87.5 + 0.4 × (4 − 1) × 25
    assert (units["D001"]["missed"], units["D001"]["responsiveness"], units["D001"]["on_time_rate"],
            units["D001"]["score"]) == (1, 0.0, 0.0, 0.0)
    assert (units["D002"]["assessed"], units["D002"]["responsiveness"], units["D002"]["open"],
            units["D002"]["overdue"], units["D002"]["score"]) == (0, None, 1, 1, None)
    assert (units["D011"]["on_time_rate"], units["D011"]["rating_average"], units["D011"]["score"]) == (1.0, 5.0, 100.0)

    streets = api.get("/api/v1/whistles/assessment/streets", headers=u["street"], params=DAY).json()["units"]
    assert streets == [{
        "unit_code": "110101001", "unit_name": "东华门", "role": "street", "whistles": 2, "summons": 5,
        "assessed": 4, "on_time": 2, "late": 1, "missed": 1, "on_time_rate": 0.5, "responsiveness": 68.8,
        "ratings": {"efficiency": 3.33, "cooperation": 3.33, "professionalism": 3.0, "responsibility": 3.67},
        "rating_average": 3.33, "rated": 3, "open": 2, "overdue": 1, "closed": 1, "cancelled": 0, "score": 50.0}]

    def drill(unit: str, figure: str) -> list[str]:
        response = api.get("/api/v1/whistles/assessment/drill", headers=u["leader"],
                           params={**DAY, "unit": unit, "figure": figure})
        assert response.status_code == 200, response.text
        return [w["number"] for w in response.json()["whistles"]]

    assert drill("D012", "late") == [a["number"]] and drill("D012", "on_time") == [b["number"]]
    assert drill("D012", "whistles") == [a["number"], b["number"]] and drill("D012", "open") == [b["number"]]
    assert drill("D002", "overdue") == [b["number"]] and drill("D001", "missed") == [a["number"]]
    assert drill("110101001", "missed") == [a["number"]] and drill("110101001", "closed") == [a["number"]]
    assert drill("110101001", "whistles") == [a["number"], b["number"]] and drill("D011", "overdue") == []
    bad = api.get("/api/v1/whistles/assessment/drill", headers=u["leader"], params={**DAY, "unit": "D012",
                                                                                      "figure": "nope"})
    assert bad.status_code == 422
    assert api.get("/api/v1/whistles/assessment/departments", headers=sign_in(api, "citizen"),
                   params=DAY).status_code == 403
    later = api.get("/api/v1/whistles/assessment/departments", headers=u["leader"],
                    params={"from": "2026-12-02", "to": "2026-12-31"}).json()
    assert later["units"] == []


def test_whistle_scores_for_the_monthly_assessment(api, whistle_world, frozen):
    _two_whistles(api, frozen)
    month = (datetime(2026, 11, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
    with whistle_world.read() as db:
        ids = {u.code: u.id for u in db.query(Unit).filter(Unit.code.in_(["D002", "D012", "110101001"]))}
        scores = assessment.whistle_scores(db, start=month[0], end=month[1])
        # past 城管执法局's cut-off (+190) its missing report-in counts as missed while the whistle is open
        later = assessment.whistle_scores(db, start=month[0], end=month[1], now=START + timedelta(minutes=200))
    assert scores[ids["D012"]].score == 82.5 and scores[ids["D012"]].role == "department"
    assert scores[ids["110101001"]].role == "street" and scores[ids["110101001"]].score == 50.0
    assert (scores[ids["D002"]].missed, scores[ids["D002"]].responsiveness) == (0, None)
    d002 = later[ids["D002"]]
    assert (d002.missed, d002.assessed, d002.responsiveness, d002.score, d002.overdue) == (1, 1, 0.0, 0.0, 1)


@pytest.fixture
def run_cli(monkeypatch, whistle_world):
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", whistle_world.url)
    get_settings.cache_clear()
    register_commands()
    yield lambda *args: CliRunner().invoke(app, list(args))
    get_settings.cache_clear()


def test_cli_exports_imports_counts_and_scores(run_cli, tmp_path, api, frozen):
    path = tmp_path / "情形.xlsx"
    assert run_cli("whistle", "situations", "export", str(path)).exit_code == 0
    result = run_cli("whistle", "situations", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "新增 0，更新 0，未变 45" in result.output
    stats = run_cli("whistle", "situations", "stats")
    assert "综合执法：15 项" in stats.output and "合计 45 项" in stats.output
    u = users(api)
    whistle = direct(api, u["street"], "YJ02", "D012")
    step(api, u["dispatcher"], whistle, "summon")
    scores = run_cli("whistle", "scores", "--from", "2026-12-01", "--to", "2026-12-01")
    assert scores.exit_code == 0, scores.output
    assert "D012 公安分局：吹哨 1，应哨 1（按时 0、超时 0、未报到 0，按时率 —），响应度 —" in scores.output
    streets = run_cli("whistle", "scores", "--from", "2026-12-01", "--to", "2026-12-01", "--streets")
    assert "110101001 东华门：吹哨 1，应哨 1" in streets.output
    assert run_cli("whistle", "scores", "--from", "2026-12-31", "--to", "2026-12-01").exit_code == 2
    assert run_cli("whistle", "situations", "import", str(tmp_path / "none.xlsx")).exit_code == 2
