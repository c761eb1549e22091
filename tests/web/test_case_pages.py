"""Case search, case detail and the generic transition forms, through the pages (both backends)."""

import io
import re

from sqlalchemy import func, select

from gridgov.cases.models import Attachment, Case, CaseEvent
from gridgov.web.pages import cases as case_pages
from tests.cases.flow import EXPOSED_GARBAGE, ILLEGAL_STRUCTURE, move, png, report, sign_in, upload

ACTION_LINK = re.compile(r'href="/cases/\d+/act/([a-z_]+)"')


def _actions(html: str) -> set[str]:
    return set(ACTION_LINK.findall(html))


def _filed(api, ref: str = "GD-1", type_code: str = ILLEGAL_STRUCTURE, **extra) -> dict:
    intake = sign_in(api, "intake")
    return move(api, intake, report(api, intake, ref=ref, **extra), "file", type_code=type_code)


def _dispatched(api, ref: str = "GD-1", unit_code: str = "D002-01") -> dict:
    case = _filed(api, ref)
    return move(api, sign_in(api, "dispatcher"), case, "dispatch", unit_code=unit_code,
                **({} if unit_code == "D002-01" else {"reason": "领导批示"}))


def _count(world, model, **where) -> int:
    with world.read() as db:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.scalar(query)


# ---- search ---------------------------------------------------------------------------------

def test_search_filters_by_status_and_text_and_shows_the_total(api, pages, frozen):
    intake = sign_in(api, "intake")
    report(api, intake, ref="GD-1", description="胡同口堆放建筑垃圾")
    report(api, intake, ref="GD-2", description="路灯不亮")
    filed = _filed(api, "GD-3")
    dispatcher = pages("dispatcher")

    everything = dispatcher.get("/cases")
    assert everything.status_code == 200 and "共 3 件" in everything.text
    only_filed = dispatcher.get("/cases?status=filed")
    assert "共 1 件" in only_filed.text and filed["number"] in only_filed.text
    lamp = dispatcher.get("/cases?text=路灯")
    assert "共 1 件" in lamp.text and "路灯不亮" not in only_filed.text
    assert dispatcher.get("/cases?type_code=" + ILLEGAL_STRUCTURE + "&overdue=false").text.count(
        'href="/cases/') == 1


def test_search_pages_with_a_next_link_carrying_the_filters(api, pages, frozen, monkeypatch):
    monkeypatch.setattr(case_pages, "PAGE_SIZE", 2)
    intake = sign_in(api, "intake")
    numbers = [report(api, intake, ref=f"GD-{i}")["number"] for i in range(5)]
    dispatcher = pages("dispatcher")
    first = dispatcher.get("/cases?street=110101001")
    assert "共 5 件" in first.text and numbers[4] in first.text and numbers[2] not in first.text
    next_url = re.search(r'href="(/cases\?[^"]*after_id=\d+)"', first.text).group(1).replace("&amp;", "&")
    assert "street=110101001" in next_url
    second = dispatcher.get(next_url)
    assert numbers[2] in second.text and numbers[1] in second.text and numbers[3] not in second.text
    assert "第一页" in second.text


def test_changing_a_filter_with_htmx_answers_only_the_result_table(api, pages, frozen):
    report(api, sign_in(api, "intake"))
    response = pages("dispatcher").get("/cases?status=reported",
                                       headers={"HX-Request": "true", "HX-Target": "case-results"})
    assert response.status_code == 200
    assert "<html" not in response.text and "共 1 件" in response.text


def test_a_bad_date_filter_is_shown_next_to_its_field(pages, frozen):
    response = pages("dispatcher").get("/cases?reported_from=2026-13-40")
    assert response.status_code == 422
    assert 'id="reported_from-error"' in response.text


def test_a_department_searches_only_cases_sent_to_it(api, pages, frozen):
    _dispatched(api, "GD-1", unit_code="D001")
    _filed(api, "GD-2")
    html = pages("department").get("/cases").text
    assert "共 1 件" in html


# ---- detail ---------------------------------------------------------------------------------

def test_detail_shows_the_case_its_timeline_clocks_and_masked_reporter(api, pages, frozen):
    case = _dispatched(api)
    html = pages("fieldunit").get(f"/cases/{case['id']}").text
    assert case["number"] in html and case["tracking_code"] in html
    assert "张**" in html and "138****5678" in html and "张三丰" not in html
    assert "立案" in html and "派遣" in html and "签收" in html  # timeline and clocks
    assert 'data-deadline="' in html and 'id="case-outline"' in html
    dispatcher = pages("dispatcher").get(f"/cases/{case['id']}").text
    assert "张三丰" in dispatcher and "13812345678" in dispatcher


def test_a_department_cannot_open_a_case_not_assigned_to_it(api, pages, frozen):
    case = _filed(api)
    response = pages("department").get(f"/cases/{case['id']}")
    assert response.status_code == 404 and case["number"] not in response.text
    assert pages("department").get(f"/cases/{case['id']}/act/receive").status_code == 404


def test_the_action_list_follows_the_transition_table_for_each_role(api, pages, frozen):
    reported = report(api, sign_in(api, "intake"), ref="GD-1")
    url = f"/cases/{reported['id']}"
    assert _actions(pages("intake").get(url).text) == {"file", "reject", "merge"}
    assert _actions(pages("dispatcher").get(url).text) == {"file", "reject", "merge", "force_close", "supervise"}
    assert _actions(pages("supervisor").get(url).text) == {"self_handle"}
    assert _actions(pages("leader").get(url).text) == set()

    dispatched = _dispatched(api, "GD-2")
    url = f"/cases/{dispatched['id']}"
    assert _actions(pages("fieldunit").get(url).text) == {"receive", "return_to_district", "request_extension"}
    assert _actions(pages("dispatcher").get(url).text) == {"suspend", "force_close", "supervise"}
    assert _actions(pages("street").get(url).text) == {"suspend"}  # dispatch scope, not the holder


def test_the_dispatch_form_prefills_the_duty_suggestion_and_explains_it(api, pages, frozen):
    case = _filed(api)
    html = pages("dispatcher").get(f"/cases/{case['id']}/act/dispatch").text
    assert 'id="duty-suggestion"' in html and "D002-01" in html
    assert re.search(r'<option value="D002-01"\s+selected', html)
    assert f'name="version" value="{case["version"]}"' in html


def test_dispatching_from_the_form_returns_to_the_page_that_asked(api, pages, world, frozen):
    case = _filed(api)
    response = pages("dispatcher").post(f"/cases/{case['id']}/act/dispatch", {
        "version": case["version"], "unit_code": "D002-01", "return_to": "/dispatch"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dispatch"
    with world.read() as db:
        assert db.get(Case, case["id"]).status == "dispatched"


def test_an_htmx_action_answers_with_a_redirect_and_a_toast_and_ignores_foreign_return_paths(
        api, pages, frozen):
    case = _filed(api)
    response = pages("dispatcher").post(f"/cases/{case['id']}/act/dispatch", {
        "version": case["version"], "unit_code": "D002-01", "return_to": "//evil.example/x"}, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/cases/{case['id']}"
    assert "toast" in response.headers["HX-Trigger"]


def test_overriding_the_suggestion_without_a_reason_is_refused_beside_the_reason(api, pages, world, frozen):
    case = _filed(api)
    response = pages("dispatcher").post(f"/cases/{case['id']}/act/dispatch", {
        "version": case["version"], "unit_code": "D001"}, htmx=True)
    assert response.status_code == 422 and 'id="reason-error"' in response.text
    assert "<html" not in response.text  # a fragment for htmx
    with world.read() as db:
        assert db.get(Case, case["id"]).status == "filed"


def test_a_missing_reason_is_shown_next_to_the_field_and_nothing_changes(api, pages, world, frozen):
    case = report(api, sign_in(api, "intake"))
    response = pages("intake").post(f"/cases/{case['id']}/act/reject", {"version": case["version"], "reason": ""})
    assert response.status_code == 422
    assert re.search(r'id="reason-error">必填<', response.text)
    assert _count(world, CaseEvent, case_id=case["id"]) == 1


def test_a_stale_version_is_refused_with_the_message_and_nothing_changes(api, pages, world, frozen):
    case = report(api, sign_in(api, "intake"))
    intake = pages("intake")
    form = intake.get(f"/cases/{case['id']}/act/reject").text
    assert f'name="version" value="{case["version"]}"' in form
    move(api, sign_in(api, "dispatcher"), case, "file", type_code=EXPOSED_GARBAGE)  # someone else first
    response = intake.post(f"/cases/{case['id']}/act/reject", {"version": case["version"], "reason": "重复"})
    assert response.status_code == 409 and "已被他人更新" in response.text
    with world.read() as db:
        assert db.get(Case, case["id"]).status == "filed"
    assert _count(world, CaseEvent, case_id=case["id"], transition="reject") == 0


def test_an_action_not_open_to_the_user_is_explained_instead_of_offered(api, pages, frozen):
    case = _filed(api)
    response = pages("dispatcher").get(f"/cases/{case['id']}/act/verify")
    assert response.status_code == 409 and "不能核查通过" in response.text
    assert pages("dispatcher").get(f"/cases/{case['id']}/act/fly").status_code == 404


def test_the_department_receives_and_reports_with_an_after_photo(api, pages, world, frozen):
    case = _dispatched(api)
    fieldunit = pages("fieldunit")
    fieldunit.post(f"/cases/{case['id']}/act/receive", {"version": case["version"]})
    form = fieldunit.get(f"/cases/{case['id']}/act/report_result").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    response = fieldunit.post(f"/cases/{case['id']}/act/report_result", {"version": version, "result": "已拆除"},
                              files={"attachment_ids": ("after.png", io.BytesIO(png()), "image/png")},
                              follow_redirects=False)
    assert response.status_code == 303, response.text
    with world.read() as db:
        assert db.get(Case, case["id"]).status == "handled"
        event = db.scalar(select(CaseEvent).where(CaseEvent.transition == "report_result"))
        photo = db.scalar(select(Attachment).where(Attachment.case_id == case["id"]))
        assert photo.kind == "after" and event.payload["attachment_ids"] == [photo.id]
    timeline = fieldunit.get(f"/cases/{case['id']}").text
    assert "处置结果：已拆除" in timeline and f"/attachments/{photo.id}" in timeline


def test_a_non_image_as_a_required_photo_is_refused_before_anything_is_stored(api, pages, world, frozen):
    community = sign_in(api, "community")
    case = report(api, community, ref=None, channel="housekeeper_patrol", description="墙上少量小广告",
                  point=(None, None), grid_code="110101001001001")
    response = pages("community").post(
        f"/cases/{case['id']}/act/self_handle",
        {"version": case["version"], "type_code": "E020101", "result": "已清除"},
        files={"before_photo": ("a.txt", io.BytesIO(b"not a picture"), "text/plain"),
               "after_photo": ("b.png", io.BytesIO(png()), "image/png")})
    assert response.status_code == 422
    assert re.search(r'id="before_photo-error">照片必须是', response.text)
    assert _count(world, Attachment, case_id=case["id"]) == 0


def test_an_upload_that_is_not_an_image_is_refused_next_to_the_file_field(api, pages, world, frozen):
    case = _dispatched(api)
    fieldunit = pages("fieldunit")
    response = fieldunit.post(f"/cases/{case['id']}/attachments", {"kind": "before"},
                              files={"file": ("notes.txt", io.BytesIO(b"hello"), "text/plain")})
    assert response.status_code == 422 and re.search(r'id="file-error">不是图片', response.text)
    assert _count(world, Attachment, case_id=case["id"]) == 0
    ok = fieldunit.post(f"/cases/{case['id']}/attachments", {"kind": "before"},
                        files={"file": ("p.png", io.BytesIO(png()), "image/png")}, follow_redirects=False)
    assert ok.status_code == 303 and _count(world, Attachment, case_id=case["id"], kind="before") == 1


def test_a_likely_duplicate_is_merged_with_one_click(api, pages, world, frozen):
    intake = sign_in(api, "intake")
    kept = report(api, intake, ref="GD-1")
    twin = report(api, intake, ref="GD-2", reporter_name="李四", reporter_phone="13900000000")
    page = pages("intake")
    html = page.get(f"/cases/{twin['id']}").text
    assert "疑似重复" in html and kept["number"] in html
    response = page.post(f"/cases/{twin['id']}/act/merge", {"version": twin["version"],
                                                             "into_case_id": kept["number"]})
    assert response.status_code == 200
    with world.read() as db:
        assert db.get(Case, twin["id"]).status == "merged"
        assert len(db.get(Case, kept["id"]).reporters) == 2


def test_the_district_records_a_reply_to_a_reporter_after_handling(api, pages, world, frozen):
    case = _dispatched(api)
    fieldunit = sign_in(api, "fieldunit")
    case = move(api, fieldunit, case, "receive")
    move(api, fieldunit, case, "report_result", result="已拆除", attachment_ids=[upload(api, fieldunit, case, "after")])
    dispatcher = pages("dispatcher")
    html = dispatcher.get(f"/cases/{case['id']}").text
    assert "待答复" in html and "记录答复" in html
    missing = dispatcher.post(f"/cases/{case['id']}/replies", {"reporter_id": "", "way": "phone", "text": ""})
    assert missing.status_code == 422 and 'id="text-error"' in missing.text
    reporter_id = re.search(r'name="reporter_id"[^>]*>\s*<option value="(\d+)"', html).group(1)
    done = dispatcher.post(f"/cases/{case['id']}/replies",
                           {"reporter_id": reporter_id, "way": "phone", "text": "已拆除，感谢反映"})
    assert done.status_code == 200 and "已答复" in done.text and "已拆除，感谢反映" in done.text
