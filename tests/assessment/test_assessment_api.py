"""Publishing and recalculating as versions, weights, drill-down in the reader's scope, the Excel
workbook and the command line — on SQLite and PostgreSQL."""

from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from gridgov.assessment.models import AssessmentRun, AssessmentWeightSet
from gridgov.audit import service as audit
from gridgov.audit.models import AuditEvent
from gridgov.cli import app, register_commands
from gridgov.config import get_settings
from tests.assessment.test_indicators import build_november
from tests.cases.flow import sign_in


@pytest.fixture
def november(world, frozen):
    with world.write() as db:
        return build_november(db)


def _count(world, model, *where):
    with world.read() as db:
        return db.scalar(select(func.count()).select_from(model).where(*where))


def test_a_published_month_is_locked_and_a_recalculation_is_a_new_audited_version(api, world, november, frozen):
    admin, leader = sign_in(api, "admin"), sign_in(api, "leader")
    assert api.post("/api/v1/assessment/runs", headers=leader, json={"month": "2026-11"}).status_code == 403
    future = api.post("/api/v1/assessment/runs", headers=admin, json={"month": "2027-01"})
    assert future.status_code == 422 and future.json()["errors"][0]["message"] == "在未来"
    first = api.post("/api/v1/assessment/runs", headers=admin, json={"month": "2026-11"})
    assert first.status_code == 201 and (first.json()["version"], first.json()["status"]) == (1, "draft")
    published = api.post("/api/v1/assessment/months/2026-11/versions/1/publish", headers=admin)
    assert published.json()["status"] == "published"
    assert api.post("/api/v1/assessment/months/2026-11/versions/1/publish", headers=admin).status_code == 409
    # the current month has not ended: computed as a draft, never published
    api.post("/api/v1/assessment/runs", headers=admin, json={"month": "2026-12"})
    assert api.post("/api/v1/assessment/months/2026-12/versions/1/publish", headers=admin).status_code == 409
    # new weights for November do not touch the published version …
    weights = {"closure_rate": 50, "on_time_closure_rate": 50}
    assert api.post("/api/v1/assessment/weights", headers=admin, json={
        "unit_kind": "department", "valid_from": "2026-11", "weights": weights}).status_code == 201
    before = api.get("/api/v1/assessment/months/2026-11", headers=leader).json()
    d002 = next(u for u in before["units"] if u["unit_code"] == "D002")
    assert before["version"] == 1 and d002["composite"] == "64.063"
    # … a recalculation needs a reason and becomes version 2, published only when asked
    refused = api.post("/api/v1/assessment/runs", headers=admin, json={"month": "2026-11"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reason"
    second = api.post("/api/v1/assessment/runs", headers=admin, json={"month": "2026-11", "reason": "调整权重"})
    assert second.json()["version"] == 2 and second.json()["weights"]["department"] == {
        "closure_rate": "50", "on_time_closure_rate": "50"}
    assert api.get("/api/v1/assessment/months/2026-11", headers=leader).json()["version"] == 1
    assert api.post("/api/v1/assessment/months/2026-11/versions/2/publish", headers=admin).status_code == 200
    versions = api.get("/api/v1/assessment/months/2026-11/versions", headers=leader).json()
    assert [(v["version"], v["status"]) for v in versions] == [(1, "superseded"), (2, "published")]
    now = api.get("/api/v1/assessment/months/2026-11", headers=leader).json()
    assert next(u for u in now["units"] if u["unit_code"] == "D002")["composite"] == "83.334"  # (100 + 66.667) / 2
    old = api.get("/api/v1/assessment/months/2026-11", headers=leader, params={"version": 1}).json()
    assert next(u for u in old["units"] if u["unit_code"] == "D002")["composite"] == "64.063"
    with world.read() as db:
        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("assessment.%"))
                             .order_by(AuditEvent.seq)).all()
        assert audit.verify(db).intact
    assert actions == ["assessment.run", "assessment.publish", "assessment.run", "assessment.weights",
                       "assessment.run", "assessment.publish"]


def test_bad_weights_are_refused_and_nothing_is_written(api, world, frozen):
    admin = sign_in(api, "admin")
    for body in ({"unit_kind": "street", "valid_from": "2026-11", "weights": {"closure_rate": 99}},
                 {"unit_kind": "street", "valid_from": "2026-11", "weights": {"whistle_rating": 100}},
                 {"unit_kind": "community", "valid_from": "2026-11", "weights": {"closure_rate": 100}},
                 {"unit_kind": "street", "valid_from": "11/2026", "weights": {"closure_rate": 100}}):
        response = api.post("/api/v1/assessment/weights", headers=admin, json=body)
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert api.post("/api/v1/assessment/weights", headers=sign_in(api, "dispatcher"), json={
        "unit_kind": "street", "valid_from": "2026-11", "weights": {"closure_rate": 100}}).status_code == 403
    assert _count(world, AssessmentWeightSet) == 0


def test_every_figure_opens_its_cases_in_the_readers_scope(api, world, november, frozen):
    admin, department, street = sign_in(api, "admin"), sign_in(api, "department"), sign_in(api, "street")
    api.post("/api/v1/assessment/runs", headers=admin, json={"month": "2026-11"})
    api.post("/api/v1/assessment/months/2026-11/versions/1/publish", headers=admin)
    url = "/api/v1/assessment/months/2026-11/drilldown"
    mine = api.get(url, headers=department, params={"unit": "D001", "indicator": "overdue_count"}).json()
    assert (mine["total"], mine["stored"], mine["matches_stored"], mine["visible"]) == (1, 1, True, 1)
    assert [c["id"] for c in mine["cases"]] == [november["c3"]]
    # the street may check another unit's figure, but sees only cases in its own street
    other = api.get(url, headers=street, params={"unit": "D002", "indicator": "return_rate",
                                                 "part": "denominator"}).json()
    assert other["total"] == 4 and other["visible"] == 4  # all four lie in 东华门街道
    # a department sees none of another department's cases (case 1 was never sent to 城管委)
    theirs = api.get(url, headers=department, params={"unit": "D002", "indicator": "on_time_handling_rate"}).json()
    assert (theirs["total"], theirs["visible"], theirs["cases"]) == (1, 0, [])
    callbacks = api.get(url, headers=admin, params={"unit": "D002", "indicator": "hotline_satisfaction_rate",
                                                    "part": "denominator"}).json()
    assert callbacks["total"] == 2 and {c["items"] for c in callbacks["cases"]} == {1}
    assert api.get(url, headers=admin, params={"unit": "D002", "indicator": "whistle_rating"}).status_code == 422
    assert api.get(url, headers=admin, params={"unit": "D002", "indicator": "cases_due",
                                               "part": "denominator"}).status_code == 422
    assert api.get(url, headers=admin, params={"unit": "110101001001", "indicator": "cases_due"}).status_code == 404


def test_the_excel_workbook_has_a_ranked_sheet_per_kind_of_unit(api, world, november, frozen):
    admin = sign_in(api, "admin")
    api.post("/api/v1/assessment/runs", headers=admin, json={"month": "2026-11"})
    response = api.get("/api/v1/assessment/months/2026-11/export.xlsx", headers=sign_in(api, "leader"))
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["职能部门", "街道", "公共服务企业", "说明"]
    sheet = book["职能部门"]
    assert sheet.freeze_panes == "A2"
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["排名", "单位编码", "单位名称", "综合得分"] and "按期结案率" in headers
    first = [c for c in sheet[2]]
    assert first[0].value == 1 and first[1].value == "D002" and first[3].value == pytest.approx(64.063)
    rate = first[headers.index("按期结案率")]
    assert rate.value == pytest.approx(2 / 3, abs=1e-6) and rate.number_format == "0.00%"
    assert first[headers.index("派遣案件数")].value == 4
    notes = {row[0].value: row[1].value for row in book["说明"].iter_rows(min_row=2)}
    assert notes["版本"] == 1 and "按期结案率" in notes


def test_the_command_line_runs_publishes_and_exports(world, november, frozen, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", world.url)
    get_settings.cache_clear()
    register_commands()
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["assessment", "run", "--month", "2026-11"])
        assert result.exit_code == 0, result.output
        assert "第 1 版" in result.output and "城管执法局" in result.output
        assert runner.invoke(app, ["assessment", "run", "--month", "2030-01"]).exit_code == 2
        assert runner.invoke(app, ["assessment", "publish", "--month", "2026-11", "--version", "1"]).exit_code == 0
        target = tmp_path / "nov.xlsx"
        assert runner.invoke(app, ["assessment", "export", "--month", "2026-11", str(target)]).exit_code == 0
        assert load_workbook(target)["街道"]["B2"].value == "110101001"
    finally:
        get_settings.cache_clear()
    assert _count(world, AssessmentRun, AssessmentRun.status == "published") == 1
