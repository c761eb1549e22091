"""吹哨报到 pages through the ASGI app, on SQLite and PostgreSQL: starting a whistle from the
form, its field errors, who may take which step, and each step's form."""

import re

import pytest
from sqlalchemy import func, select

from gridgov.whistle.models import Whistle
from tests.whistle.conftest import whistle_database, whistle_world  # noqa: F401
from tests.whistle.flow import departments, finish, get, l3_case, report_in, start, step, summons_of, users

pytestmark = pytest.mark.usefixtures("whistle_world")
ZF03_USUAL = ("D032", "D011", "D012", "D020", "D002")  # 地下空间违规住人: its usual departments


def whistles_in(database) -> int:
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(Whistle))


def ticked(html: str) -> set[str]:
    return set(re.findall(r'name="unit_code" value="([^"]+)" checked', html))


def error_of(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', html)
    assert match, f"no error shown next to {field}"
    return match.group(1)


def section(html: str, heading: str) -> str:
    match = re.search(rf'<section[^>]*aria-labelledby="{heading}".*?</section>', html, re.S)
    assert match, f"no section {heading}"
    return match.group(0)


def form_for(case: dict, **fields) -> dict:
    return {"case_id": str(case["id"]), "case_version": str(case["version"]), "situation_code": "ZF03",
            "title": "东华门某楼地下室违规住人", "description": "地下室住人，存在消防隐患", "urgency": "normal",
            "unit_code": "D011", "task_D011": "核查房屋产权和租赁情况", **fields}


def summoned(api, u, *codes: str) -> dict:
    """A whistle on a fresh L3 case with `codes` summoned and sent by the district."""
    case = l3_case(api, u)
    whistle = start(api, u["street"], case_id=case["id"], departments=departments(*codes))
    return step(api, u["dispatcher"], whistle, "summon")


def test_choosing_a_situation_pre_ticks_its_usual_departments(pages, api):
    street = pages("street")
    panel = street.get("/whistles/new/situation?situation_code=ZF03", headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert ticked(panel.text) == set(ZF03_USUAL)
    assert "发现地下空间住人且产权、使用或管理单位不配合整改的" in panel.text  # 启动标准
    assert "人民防空法" in panel.text and "1 工作日" in panel.text  # 法规依据, 报到时限
    assert 'value="D001"' in panel.text and ticked(panel.text).isdisjoint({"D001"})  # others offered, unticked
    case = l3_case(api, users(api))
    page = street.get(f"/whistles/new?case_id={case['id']}&situation_code=ZF03")
    assert page.status_code == 200 and case["number"] in page.text and ticked(page.text) == set(ZF03_USUAL)


def test_street_starts_a_whistle_on_its_case_from_the_form(pages, api):
    u = users(api)
    case = l3_case(api, u)
    response = pages("street").post("/whistles/new", form_for(
        case, unit_code="D011,D002", task_D002="依法查处违规出租"))
    assert response.status_code == 200 and response.url.path.startswith("/whistles/")
    whistle = get(api, u["street"], {"id": int(response.url.path.rsplit("/", 1)[1])})
    assert whistle["case_id"] == case["id"] and whistle["status"] == "filed"
    assert {(s["unit_code"], s["task"]) for s in whistle["summons"]} == {
        ("D011", "核查房屋产权和租赁情况"), ("D002", "依法查处违规出租")}
    assert "已备案待派发" in response.text and case["number"] in response.text


def test_start_problems_are_shown_next_to_their_fields_and_nothing_is_written(pages, api, world):
    u = users(api)
    case = l3_case(api, u)
    street = pages("street")
    missing = street.post("/whistles/new", form_for(case, unit_code="", task_D011=""))
    assert missing.status_code == 422
    assert error_of(missing.text, "departments") == "请至少选择一个应哨部门"
    no_task = street.post("/whistles/new", form_for(case, task_D011=""))
    assert no_task.status_code == 422 and error_of(no_task.text, "task_D011") == "请写明对该部门的工作要求"
    not_a_department = street.post("/whistles/new", form_for(case, unit_code="110101001", task_110101001="x"))
    assert not_a_department.status_code == 422
    assert "只能召集职能部门、派出机构或社会单位" in error_of(not_a_department.text, "departments")
    outside = street.post("/whistles/new", form_for(case, lng="116.397", lat="39.925"))  # in 景山
    assert outside.status_code == 422 and error_of(outside.text, "place") == "地点不在本街道"
    assert api.post("/api/v1/whistles/situations/ZF03/retire", headers=u["admin"],
                    json={"reason": "并入新清单"}).status_code == 200
    retired = street.post("/whistles/new", form_for(case))
    assert retired.status_code == 422 and error_of(retired.text, "situation_code") == "情形已停用"
    assert 'value="核查房屋产权和租赁情况"' in retired.text  # what the user typed is kept
    other_street = pages("jgm_street").post("/whistles/new", form_for(case))
    assert other_street.status_code == 403
    assert error_of(other_street.text, "case_id") == f"案件 {case['id']} 不在本街道，不能由本街道吹哨"
    assert whistles_in(world) == 0


def test_a_department_not_summoned_cannot_report_in(pages, api):
    u = users(api)
    whistle = summoned(api, u, "D011", "D002")
    d011, d002 = summons_of(whistle, "D011"), summons_of(whistle, "D002")
    url = f"/whistles/{whistle['id']}/act/report_in"
    body = {"version": "1", "place": "东华门大街 12 号", "leader": "王队长", "headcount": "3"}
    police = pages("police")  # 公安分局 was not summoned: it does not see the whistle
    assert police.get(f"{url}?summons_id={d011['id']}").status_code == 404
    assert police.post(f"{url}?summons_id={d011['id']}", body).status_code == 404
    housing = pages("housing")  # summoned, but the summons of 城管执法局 is not its own
    assert housing.get(f"{url}?summons_id={d002['id']}").status_code == 403
    assert housing.post(f"{url}?summons_id={d002['id']}", {**body, "version": str(d002["version"])}).status_code == 403
    assert summons_of(get(api, u["street"], whistle), "D002")["status"] == "sent"
    assert d011["status"] == "sent"


def test_the_detail_lists_only_the_steps_the_user_may_take(pages, api):
    u = users(api)
    case = l3_case(api, u)
    whistle = start(api, u["street"], case_id=case["id"], departments=departments("D011", "D002"))
    detail = f"/whistles/{whistle['id']}"

    def steps(username: str) -> list[str]:
        return re.findall(r'href="/whistles/\d+/act/([a-z_]+)(?:\?summons_id=(\d+))?"', pages(username).get(detail).text)

    assert steps("dispatcher") == [("summon", "")]
    assert steps("street") == [("add_departments", ""), ("cancel", "")]
    assert pages("housing").get(detail).status_code == 404  # not sent yet
    more = pages("street").get(f"{detail}/act/add_departments", headers={"HX-Request": "true"})
    assert more.status_code == 200 and ticked(more.text) == set()
    assert 'value="D011"' not in more.text and 'value="D032"' in more.text  # 追哨: only the others
    whistle = step(api, u["dispatcher"], whistle, "summon")
    assert steps("dispatcher") == []
    assert steps("housing") == [("report_in", str(summons_of(whistle, "D011")["id"]))]
    assert steps("fieldunit") == [("report_in", str(summons_of(whistle, "D002")["id"]))]  # answers for 城管执法局
    assert pages("street").get(f"{detail}/act/report_in?summons_id={summons_of(whistle, 'D011')['id']}").status_code == 403
    assert pages("street").get(f"{detail}/act/close").status_code == 403  # never the street's
    assert pages("dispatcher").get(f"{detail}/act/close").status_code == 409  # not reported yet


def test_department_reports_in_and_finishes_its_part_through_the_forms(pages, api):
    u = users(api)
    whistle = summoned(api, u, "D011")
    d011 = summons_of(whistle, "D011")
    housing = pages("housing")
    url = f"/whistles/{whistle['id']}/act/report_in?summons_id={d011['id']}"
    form = housing.get(url, headers={"HX-Request": "true"})
    assert form.status_code == 200 and "<html" not in form.text and 'name="headcount"' in form.text
    refused = housing.post(url, {"version": str(d011["version"]), "place": "", "leader": "李科长",
                                 "headcount": "many"}, htmx=True)
    assert refused.status_code == 422
    assert error_of(refused.text, "headcount") == "应为整数" and 'value="李科长"' in refused.text
    done = housing.post(url, {"version": str(d011["version"]), "place": "东华门大街 12 号", "leader": "李科长",
                              "headcount": "3", "return_to": "/whistles"}, htmx=True)
    assert done.status_code == 200 and done.headers["HX-Redirect"] == "/whistles"
    d011 = summons_of(get(api, u["street"], whistle), "D011")
    assert (d011["status"], d011["leader"], d011["headcount"], d011["assessment"]) == (
        "reported_in", "李科长", 3, "on_time")
    stale = housing.post(url.replace("report_in", "finish_part"), {"version": "1", "result": "已清理"}, htmx=True)
    assert stale.status_code == 409 and "已被他人更新" in stale.text
    finished = housing.post(url.replace("report_in", "finish_part"),
                            {"version": str(d011["version"]), "result": "已清理住人，责令整改"})
    assert finished.status_code == 200 and finished.url.path == f"/whistles/{whistle['id']}"
    assert "已清理住人，责令整改" in finished.text


def test_a_low_rating_without_comment_is_refused_next_to_it(pages, api):
    u = users(api)
    whistle = summoned(api, u, "D011", "D002")
    for user, code in (("housing", "D011"), ("fieldunit", "D002")):
        whistle = report_in(api, u[user], whistle, code)
        whistle = finish(api, u[user], whistle, code)
    sid = {code: summons_of(whistle, code)["id"] for code in ("D011", "D002")}
    marks = {f"rating_{sid[c]}_{p}": "4" for c in sid
             for p in ("efficiency", "cooperation", "professionalism", "responsibility")}
    body = {"version": str(whistle["version"]), "outcome": "地下室已清退", "reply_way": "phone",
            "reply_text": "已电话告知处理结果", **marks, f"rating_{sid['D011']}_cooperation": "2"}
    street = pages("street")
    url = f"/whistles/{whistle['id']}/act/report_outcome"
    refused = street.post(url, body)
    assert refused.status_code == 422
    assert "配合度评分不高于 2 分，须填写评价说明" in error_of(refused.text, f"rating_{sid['D011']}_comment")
    assert get(api, u["street"], whistle)["status"] == "summoned"
    no_reply = street.post(url, {**body, "reply_text": "", f"rating_{sid['D011']}_comment": "到场迟缓"})
    assert no_reply.status_code == 422 and "案件有反映人，须填写一对一反馈内容" in error_of(no_reply.text, "reply_text")
    accepted = street.post(url, {**body, f"rating_{sid['D011']}_comment": "到场迟缓"})
    assert accepted.status_code == 200
    rated = summons_of(get(api, u["street"], whistle), "D011")
    assert rated["ratings"]["cooperation"] == 2 and rated["rating_comment"] == "到场迟缓"


def test_lists_show_each_user_its_whistle_work(pages, api):
    u = users(api)
    whistle = start(api, u["street"], case_id=l3_case(api, u)["id"], departments=departments("D011"))
    assert whistle["number"] in section(pages("dispatcher").get("/whistles").text, "box-to_summon")
    step(api, u["dispatcher"], whistle, "summon")
    housing = section(pages("housing").get("/whistles").text, "box-to_report_in")
    assert whistle["number"] in housing and 'data-deadline="2026-12-02T02:00:00+00:00"' in housing
    assert whistle["number"] not in pages("police").get("/whistles").text
