"""绩效考核 pages through the ASGI app on SQLite and PostgreSQL: rankings of a hand-built month
(tests/assessment/test_indicators.py), drill-down to exactly the cases behind a figure, the
Excel workbook, and running and publishing with their errors beside the forms."""

import re
from collections.abc import Iterator
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete

from gridgov.db import Database
from tests.assessment.tables import FEATURE_TABLES
from tests.assessment.test_indicators import build_november
from tests.cases.conftest import CASE_TABLES

CASE_LINK = re.compile(r'href="/cases/(\d+)"')


@pytest.fixture
def world(world_database: Database) -> Iterator[Database]:
    """The case world, with the assessment's and feedback's tables emptied too."""
    yield world_database
    with world_database.engine.begin() as conn:
        for model in (*FEATURE_TABLES, *CASE_TABLES):
            conn.execute(delete(model))


@pytest.fixture
def november(world, frozen):
    with world.write() as db:
        return build_november(db)


def _row(html: str, code: str) -> str:
    match = re.search(rf"<tr>\s*<td class=\"rank\">[^<]*</td>\s*<th scope=\"row\">[^<]*<span class=\"muted\">{code}</span>"
                      r".*?</tr>", html, re.S)
    assert match, f"no row for {code}"
    return match.group(0)


def test_an_administrator_computes_a_draft_and_everyone_sees_the_rankings(pages, november):
    admin = pages("admin")
    computed = admin.post("/assessment/run", {"month": "2026-11"}, follow_redirects=False)
    assert computed.status_code == 303 and computed.headers["location"] == "/assessment?month=2026-11&version=1"
    page = pages("leader").get("/assessment?month=2026-11")
    assert page.status_code == 200
    assert "第 1 版" in page.text and "草稿" in page.text and "职能部门" in page.text and "街道" in page.text
    d002, d001 = _row(page.text, "D002"), _row(page.text, "D001")
    assert '<td class="rank">1</td>' in d002 and "64.063" in d002
    assert '<td class="rank">2</td>' in d001 and "12.500" in d001
    assert "66.67%" in d002  # 按期结案率 2 / 3
    assert '<td class="rank">1</td>' in _row(page.text, "110101001") and "100.000" in _row(page.text, "110101001")
    assert '<td class="rank">—</td>' in _row(page.text, "D003")
    # a leader reads, but is offered no forms to compute or publish
    assert 'action="/assessment/run"' not in page.text
    assert pages("leader").post("/assessment/run", {"month": "2026-11"}).status_code == 403


def test_every_figure_drills_down_to_exactly_the_cases_behind_it(pages, november):
    admin = pages("admin")
    admin.post("/assessment/run", {"month": "2026-11"})
    page = admin.get("/assessment?month=2026-11").text
    link = "/assessment/drill?month=2026-11&amp;unit=D002&amp;indicator=return_rate&amp;version=1&amp;part=denominator"
    assert link in page
    denominator = admin.get(link.replace("&amp;", "&"))
    assert denominator.status_code == 200 and "派遣案件" in denominator.text
    assert sorted(map(int, CASE_LINK.findall(denominator.text))) == sorted(
        november[c] for c in ("c1", "c2", "c3", "c6"))
    returned = admin.get("/assessment/drill?month=2026-11&unit=D002&indicator=return_rate&part=numerator")
    assert CASE_LINK.findall(returned.text) == [str(november["c3"])]
    overdue = pages("department").get("/assessment/drill?month=2026-11&unit=D001&indicator=overdue_count")
    assert CASE_LINK.findall(overdue.text) == [str(november["c3"])]
    # a department sees none of another department's cases, though the set is not empty
    theirs = pages("department").get("/assessment/drill?month=2026-11&unit=D002&indicator=on_time_handling_rate")
    assert CASE_LINK.findall(theirs.text) == [] and "没有您可查看的案件" in theirs.text
    street = admin.get("/assessment/drill?month=2026-11&unit=110101001&indicator=on_time_closure_rate")
    assert CASE_LINK.findall(street.text) == [str(november["c5"])]
    whistles = admin.get("/assessment/drill?month=2026-11&unit=D002&indicator=whistle_response&part=denominator")
    assert whistles.status_code == 200 and "没有吹哨事项" in whistles.text
    assert admin.get("/assessment/drill?month=2026-11&unit=110101001001&indicator=cases_due").status_code == 404


def test_the_excel_download_opens_with_chinese_headers(pages, november):
    admin = pages("admin")
    admin.post("/assessment/run", {"month": "2026-11"})
    page = pages("leader")
    html = page.get("/assessment?month=2026-11").text
    assert 'href="/api/v1/assessment/months/2026-11/export.xlsx?version=1"' in html
    workbook = page.get("/api/v1/assessment/months/2026-11/export.xlsx?version=1")
    assert workbook.status_code == 200
    book = load_workbook(BytesIO(workbook.content))
    assert book.sheetnames == ["职能部门", "街道", "公共服务企业", "说明"]
    headers = [c.value for c in book["职能部门"][1]]
    assert headers[:4] == ["排名", "单位编码", "单位名称", "综合得分"] and "按期结案率" in headers
    assert [c.value for c in book["职能部门"][2]][1] == "D002"


def test_publishing_twice_and_recalculating_without_a_reason_show_the_error(pages, november):
    admin = pages("admin")
    admin.post("/assessment/run", {"month": "2026-11"})
    offered = admin.get("/assessment?month=2026-11").text
    assert 'action="/assessment/publish"' in offered and "第 1 版（最新）" in offered
    assert offered.count(f'name="csrf_token" value="{admin.csrf_token}"') == 3  # sign-out, run, publish
    published = admin.post("/assessment/publish", {"month": "2026-11", "version": "1"}, follow_redirects=False)
    assert published.status_code == 303
    again = admin.post("/assessment/publish", {"month": "2026-11", "version": "1"})
    assert again.status_code == 409 and "第 1 版已发布" in again.text and 'role="alert"' in again.text
    no_reason = admin.post("/assessment/run", {"month": "2026-11", "reason": " "})
    assert no_reason.status_code == 422
    assert re.search(r'<p class="field-error" id="reason-error">必填</p>', no_reason.text)
    assert "重新计算须说明理由" in no_reason.text
    recalculated = admin.post("/assessment/run", {"month": "2026-11", "reason": "补录案件后重算"},
                              follow_redirects=False)
    assert recalculated.headers["location"] == "/assessment?month=2026-11&version=2"
    versions = admin.get("/assessment?month=2026-11").text
    assert "已发布" in versions and "补录案件后重算" in versions
    # the month in progress is computed as a draft but cannot be published yet
    admin.post("/assessment/run", {"month": "2026-12"})
    early = admin.post("/assessment/publish", {"month": "2026-12", "version": "1"})
    assert early.status_code == 409 and "尚未结束" in early.text
    future = admin.post("/assessment/run", {"month": "2027-01"})
    assert future.status_code == 422 and "尚未开始" in future.text


def test_a_month_in_the_future_or_malformed_is_refused_beside_the_picker(pages, world, frozen):
    leader = pages("leader")
    empty = leader.get("/assessment")
    assert empty.status_code == 200 and 'value="2026-11"' in empty.text and "本月尚未计算考核结果" in empty.text
    future = leader.get("/assessment?month=2027-03")
    assert future.status_code == 422 and 'id="month-error"' in future.text
    assert leader.get("/assessment?month=2026/11").status_code == 422
