"""The caller's callback queue and form, and the district's decision on an unsatisfied callback."""

import re

from sqlalchemy import select

from gridgov.cases.models import Case
from gridgov.feedback.models import CaseCallback
from tests.cases.flow import ILLEGAL_STRUCTURE, move, report, sign_in, upload


def _closed_hotline_case(api) -> dict:
    intake, dispatcher, fieldunit = sign_in(api, "intake"), sign_in(api, "dispatcher"), sign_in(api, "fieldunit")
    case = move(api, intake, report(api, intake, ref="GD-9"), "file", type_code=ILLEGAL_STRUCTURE)
    case = move(api, dispatcher, case, "dispatch", unit_code="D002-01")
    case = move(api, fieldunit, case, "receive")
    case = move(api, fieldunit, case, "report_result", result="已拆除违建",
                attachment_ids=[upload(api, fieldunit, case, "after")])
    case = move(api, sign_in(api, "supervisor"), case, "verify", note="现场已拆除")
    return move(api, dispatcher, case, "close")


def test_the_caller_sees_closed_hotline_cases_due_and_records_an_outcome(api, pages, world, frozen):
    case = _closed_hotline_case(api)
    caller = pages("caller")
    queue = caller.get("/callbacks")
    assert queue.status_code == 200 and case["number"] in queue.text and "13812345678" in queue.text
    form_url = re.search(r'href="(/callbacks/cases/\d+/reporters/\d+)"', queue.text).group(1)
    form = caller.get(form_url, headers={"HX-Request": "true"})
    assert "<html" not in form.text and "处置结果：已拆除违建" in form.text

    incomplete = caller.post(form_url, {"reached": "true", "resolved": "true"}, htmx=True)
    assert incomplete.status_code == 422 and re.search(r'id="satisfaction-error">接通的回访须填写此项', incomplete.text)
    with world.read() as db:
        assert db.scalar(select(CaseCallback.id)) is None

    done = caller.post(form_url, {"reached": "true", "resolved": "false", "satisfaction": "unsatisfied",
                                  "remarks": "违建又搭起来了"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/callbacks"
    assert case["number"] not in caller.get("/callbacks").text


def test_an_unreached_call_records_no_outcome(api, pages, frozen):
    _closed_hotline_case(api)
    caller = pages("caller")
    form_url = re.search(r'href="(/callbacks/cases/\d+/reporters/\d+)"', caller.get("/callbacks").text).group(1)
    response = caller.post(form_url, {"reached": "false", "satisfaction": "satisfied"})
    assert response.status_code == 422 and 'id="satisfaction-error">未接通的回访不能填写此项' in response.text


def test_the_district_reopens_a_case_after_an_unsatisfied_callback(api, pages, world, frozen):
    case = _closed_hotline_case(api)
    caller = pages("caller")
    form_url = re.search(r'href="(/callbacks/cases/\d+/reporters/\d+)"', caller.get("/callbacks").text).group(1)
    caller.post(form_url, {"reached": "true", "resolved": "false", "satisfaction": "unsatisfied"})

    dispatcher = pages("dispatcher")
    queue = dispatcher.get("/callbacks").text
    decision_url = re.search(r'href="(/callbacks/\d+/decision)"', queue).group(1)
    assert decision_url in dispatcher.get(f"/cases/{case['id']}").text
    missing = dispatcher.post(decision_url, {"reopen": "true", "version": case["version"], "reason": ""})
    assert missing.status_code == 422 and 'id="reason-error"' in missing.text
    response = dispatcher.post(decision_url, {"reopen": "true", "version": case["version"],
                                              "reason": "回访不满意，退回重新处置"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case['id']}"
    with world.read() as db:
        assert db.get(Case, case["id"]).status == "received"
        assert db.scalar(select(CaseCallback.decision)) == "reopen"


def test_callbacks_are_not_a_page_for_a_department(pages, frozen):
    assert pages("department").get("/callbacks").status_code == 403
