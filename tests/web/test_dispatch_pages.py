"""派遣调度 pages: the dispatcher's queue by deadline, the duty matrix's suggestion and why,
overdue colours, returned cases with their reason, extension requests, verification and
closure, supervision, and the self-refreshing fragment."""

import re

from tests.cases.flow import ILLEGAL_STRUCTURE, move, report, sign_in, upload

URGENT_COVER = "C010101"  # 上水井盖缺失: urgent, so its intake clock runs 10 minutes, not 30


def _users(api) -> dict[str, dict]:
    return {name: sign_in(api, name) for name in ("intake", "dispatcher", "department", "fieldunit",
                                                   "supervisor")}


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start:html.index("</section>", start)]


def _row(html: str, number: str) -> str:
    match = re.search(rf'<tr class="([^"]*)" data-case="{number}">', html)
    assert match, f"case {number} is not in the queue"
    return match.group(1)


def _filed(api, u, ref: str, type_code: str = ILLEGAL_STRUCTURE) -> dict:
    case = report(api, u["intake"], ref=ref, type_code=type_code)
    return move(api, u["intake"], case, "file", type_code=type_code)


def test_filed_cases_wait_with_the_suggested_unit_and_why_the_earliest_deadline_first(
        pages, api, frozen):
    u = _users(api)
    ordinary = _filed(api, u, "GD-1")  # intake deadline: 30 minutes from now
    frozen.advance(minutes=5)
    urgent = _filed(api, u, "GD-2", type_code=URGENT_COVER)  # 10 minutes: due before the other
    html = _section(pages("dispatcher").get("/dispatch").text, "to-dispatch")
    assert html.index(urgent["number"]) < html.index(ordinary["number"])
    row = html[html.index(ordinary["number"]):]
    assert "东华门城管执法队" in row and "D002-01" in row
    assert f"事项 {ILLEGAL_STRUCTURE}（私搭乱建" in row and "（规则 " in row
    assert f'/cases/{ordinary["id"]}/act/dispatch?return_to=/dispatch' in row


def test_rows_turn_amber_when_due_soon_and_red_once_overdue(pages, api, frozen):
    u = _users(api)
    case = _filed(api, u, "GD-3")
    client = pages("dispatcher")
    assert _row(_section(client.get("/dispatch").text, "to-dispatch"), case["number"]) == ""
    frozen.advance(minutes=25)
    assert _row(_section(client.get("/dispatch").text, "to-dispatch"), case["number"]) == "row-soon"
    frozen.advance(minutes=6)
    html = client.get("/dispatch").text
    assert _row(_section(html, "to-dispatch"), case["number"]) == "row-overdue"
    overdue = _section(html, "overdue")
    assert re.search(r"<td>区中心</td><td>立案派遣</td><td class=\"num\">1</td>", overdue)


def test_new_reports_wait_to_be_filed_with_file_and_reject_actions(pages, api):
    u = _users(api)
    case = report(api, u["intake"], ref="GD-4")
    html = _section(pages("dispatcher").get("/dispatch").text, "to-file")
    assert case["number"] in html and "12345市民服务热线" in html
    assert f'/cases/{case["id"]}/act/file?return_to=/dispatch' in html
    assert f'/cases/{case["id"]}/act/reject?return_to=/dispatch' in html


def test_returned_cases_show_why_they_came_back(pages, api):
    u = _users(api)
    case = _filed(api, u, "GD-5")
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D001", reason="领导批示先由城管委牵头")
    case = move(api, u["department"], case, "receive")
    move(api, u["department"], case, "return_to_district", reason="违法建设查处属城管执法职责")
    html = _section(pages("dispatcher").get("/dispatch").text, "returned")
    row = html[html.index(case["number"]):]
    assert "违法建设查处属城管执法职责" in row and "已回退 1 次" in row
    assert "东华门城管执法队" in row  # the duty matrix's answer, for the re-dispatch


def test_extension_requests_wait_for_a_decision(pages, api):
    u = _users(api)
    case = _filed(api, u, "GD-6")
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D002-01")
    case = move(api, u["fieldunit"], case, "receive")
    move(api, u["fieldunit"], case, "request_extension", extra_value=2, extra_unit="working_days",
         reason="需协调产权单位到场")
    html = _section(pages("dispatcher").get("/dispatch").text, "extensions")
    assert case["number"] in html and "需协调产权单位到场" in html and "2 工作日" in html
    assert "东华门城管执法队" in html
    assert f'/cases/{case["id"]}/act/decide_extension?return_to=/dispatch' in html


def test_handled_cases_wait_for_verification_then_closure(pages, api):
    u = _users(api)
    case = _filed(api, u, "GD-7")
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D002-01")
    case = move(api, u["fieldunit"], case, "receive")
    case = move(api, u["fieldunit"], case, "report_result", result="已拆除彩钢房并恢复原状",
                attachment_ids=[upload(api, u["fieldunit"], case, "after")])
    client = pages("dispatcher")
    html = _section(client.get("/dispatch").text, "to-verify")
    assert case["number"] in html and "东华门城管执法队" in html
    assert f'/cases/{case["id"]}/act/verify?return_to=/dispatch' in html
    case = move(api, u["supervisor"], case, "verify", note="现场已拆除")
    html = client.get("/dispatch").text
    assert case["number"] not in _section(html, "to-verify")
    assert f'/cases/{case["id"]}/act/close?return_to=/dispatch' in _section(html, "to-close")


def test_supervised_cases_are_listed_with_clear_supervision(pages, api):
    u = _users(api)
    case = _filed(api, u, "GD-8")
    move(api, u["dispatcher"], case, "supervise", reason="市民多次反映")
    html = _section(pages("dispatcher").get("/dispatch").text, "supervised")
    assert case["number"] in html and "督办" in html
    assert f'/cases/{case["id"]}/act/clear_supervision?return_to=/dispatch' in html


def test_the_queue_refreshes_itself_as_a_fragment(pages, api):
    u = _users(api)
    case = _filed(api, u, "GD-9")
    fragment = pages("dispatcher").get("/dispatch/queue").text
    assert fragment.lstrip().startswith('<div id="queue"') and 'hx-trigger="every 30s"' in fragment
    assert case["number"] in fragment and "<html" not in fragment


def test_only_those_who_dispatch_open_the_queue(pages):
    assert pages("intake").get("/dispatch").status_code == 403
