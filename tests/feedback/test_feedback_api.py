"""Replies (owed, given, overdue), callbacks and the reopen decision, sampling, public ratings —
through the API on SQLite and PostgreSQL."""

from sqlalchemy import func, select

from gridgov.feedback.models import CaseCallback, CaseReply, PublicRating
from tests.cases.flow import ILLEGAL_STRUCTURE, move, report, sign_in


def _users(api):
    return {n: sign_in(api, n) for n in (
        "intake", "dispatcher", "fieldunit", "supervisor", "street", "caller", "admin", "leader", "department")}


def _handled(api, u, ref, **extra):
    case = report(api, u["intake"], ref=ref, **extra)
    case = move(api, u["intake"], case, "file", type_code=ILLEGAL_STRUCTURE)
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D002-01")
    case = move(api, u["fieldunit"], case, "receive")
    return move(api, u["fieldunit"], case, "report_result", result="已拆除")


def _close(api, u, case):
    case = move(api, u["supervisor"], case, "verify", note="核查通过")
    return move(api, u["dispatcher"], case, "close")


def _count(world, model):
    with world.read() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_every_reporter_of_a_merged_case_is_owed_a_reply_within_one_working_day(api, world, frozen):
    u = _users(api)
    first = report(api, u["intake"], ref="FB-1")
    second = report(api, u["intake"], ref="FB-2", reporter_name="李四", reporter_phone="13900000000")
    move(api, u["intake"], second, "merge", into_case_id=first["id"])
    url = f"/api/v1/feedback/cases/{first['id']}"
    reporters = api.get(url, headers=u["street"]).json()["reporters"]
    assert len(reporters) == 2 and not any(r["owed"] for r in reporters)  # nothing handled yet
    body = {"reporter_id": reporters[0]["reporter_id"], "text": "已处理完毕", "way": "phone"}
    refused = api.post(f"{url}/replies", headers=u["street"], json=body)
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    case = api.get(f"/api/v1/cases/{first['id']}", headers=u["dispatcher"]).json()
    case = move(api, u["intake"], case, "file", type_code=ILLEGAL_STRUCTURE)
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D002-01")
    case = move(api, u["fieldunit"], case, "receive")
    move(api, u["fieldunit"], case, "report_result", result="已拆除")
    feedback = api.get(url, headers=u["street"]).json()
    assert [r["owed"] for r in feedback["reporters"]] == [True, True]
    assert feedback["reporters"][0]["due_at"] > feedback["reporters"][0]["due_from"]
    assert feedback["reporters"][1]["phone"] == "13900000000"  # the street of the case sees it
    masked = api.get(url, headers=u["leader"]).json()["reporters"][1]
    assert masked["phone"] == "139****0000"
    assert api.post(f"{url}/replies", headers=u["department"], json=body).status_code == 404
    assert api.post(f"{url}/replies", headers=u["street"], json=body | {"way": "fax"}).status_code == 422
    given = api.post(f"{url}/replies", headers=u["street"], json=body)
    assert given.status_code == 201 and given.json()["way_label"] == "电话"
    assert api.post(f"{url}/replies", headers=u["street"], json=body).status_code == 409  # once per round
    # a day and a half later (working time), the other reporter's reply is overdue
    frozen.advance(days=2)
    overdue = api.get("/api/v1/feedback/replies/overdue", headers=u["dispatcher"]).json()
    assert [(o["case_id"], o["reporter_id"]) for o in overdue] == [
        (first["id"], feedback["reporters"][1]["reporter_id"])]
    assert api.get("/api/v1/feedback/replies/overdue", headers=u["fieldunit"]).status_code == 403
    assert api.get(url, headers=u["street"]).json()["reporters"][1]["overdue"] is True


def test_an_unsatisfied_callback_reopens_the_case_by_the_districts_decision(api, world, frozen):
    u = _users(api)
    case = _close(api, u, _handled(api, u, "CB-1"))
    other = _close(api, u, _handled(api, u, "CB-2", channel="wechat"))
    due = api.get("/api/v1/feedback/callbacks/due", headers=u["caller"],
                  params={"closed_from": "2026-12-01", "closed_to": "2026-12-01"}).json()
    assert case["id"] in {d["case_id"] for d in due} and due[0]["phone"] == "13812345678"
    sampled = {d["case_id"]: d["sampled_as"] for d in due}
    assert sampled[case["id"]] == "hotline" and sampled.get(other["id"]) in (None, "sample")
    reporter = due[0]["reporter_id"] if due[0]["case_id"] == case["id"] else next(
        d["reporter_id"] for d in due if d["case_id"] == case["id"])
    url = f"/api/v1/feedback/cases/{case['id']}/callbacks"
    assert api.post(url, headers=u["street"], json={"reporter_id": reporter, "reached": False}).status_code == 403
    incomplete = api.post(url, headers=u["caller"], json={"reporter_id": reporter, "reached": True})
    assert incomplete.status_code == 422 and {e["field"] for e in incomplete.json()["errors"]} == {
        "resolved", "satisfaction"}
    assert api.post(url, headers=u["caller"], json={"reporter_id": reporter, "reached": True, "resolved": True,
                                                    "satisfaction": "很好"}).status_code == 422
    assert _count(world, CaseCallback) == 0
    assert api.post(url, headers=u["caller"], json={"reporter_id": reporter, "reached": False}).status_code == 201
    callback = api.post(url, headers=u["caller"], json={
        "reporter_id": reporter, "reached": True, "resolved": False, "satisfaction": "unsatisfied",
        "remarks": "违建仍在"}).json()
    assert callback["satisfaction_label"] == "不满意" and callback["sampled_as"] == "hotline"
    assert api.post(url, headers=u["caller"], json={
        "reporter_id": reporter, "reached": True, "resolved": True, "satisfaction": "satisfied"}).status_code == 409
    decide = f"/api/v1/feedback/callbacks/{callback['id']}/decision"
    current = api.get(f"/api/v1/cases/{case['id']}", headers=u["dispatcher"]).json()
    assert api.post(decide, headers=u["caller"], json={"reopen": True, "reason": "返工",
                                                       "version": current["version"]}).status_code == 403
    decided = api.post(decide, headers=u["dispatcher"], json={"reopen": True, "reason": "群众反映违建仍在",
                                                              "version": current["version"]})
    assert decided.status_code == 200 and decided.json()["decision"] == "reopen"
    reopened = api.get(f"/api/v1/cases/{case['id']}", headers=u["dispatcher"]).json()
    assert (reopened["status"], reopened["holder_unit_code"]) == ("received", "D002-01")
    assert api.post(decide, headers=u["dispatcher"], json={"reopen": False, "reason": "再议",
                                                           "version": reopened["version"]}).status_code == 409
    # a new round: the reporter is owed a new reply once the rework is reported
    move(api, u["fieldunit"], reopened, "report_result", result="已彻底拆除")
    owed = api.get(f"/api/v1/feedback/cases/{case['id']}", headers=u["street"]).json()["reporters"][0]
    assert owed["owed"] is True


def test_callbacks_need_a_closed_case_with_a_reporter_who_left_a_number(api, world, frozen):
    u = _users(api)
    open_case = _handled(api, u, "CB-3")
    reporter = api.get(f"/api/v1/feedback/cases/{open_case['id']}", headers=u["caller"]).json()["reporters"][0]
    body = {"reporter_id": reporter["reporter_id"], "reached": True, "resolved": True, "satisfaction": "basic"}
    assert api.post(f"/api/v1/feedback/cases/{open_case['id']}/callbacks", headers=u["caller"],
                    json=body).status_code == 409
    anonymous = _close(api, u, _handled(api, u, "CB-4", reporter_name=None, reporter_phone=None))
    reporter = api.get(f"/api/v1/feedback/cases/{anonymous['id']}", headers=u["caller"]).json()["reporters"][0]
    refused = api.post(f"/api/v1/feedback/cases/{anonymous['id']}/callbacks", headers=u["caller"],
                       json=body | {"reporter_id": reporter["reporter_id"]})
    assert refused.status_code == 409 and "没有留下电话" in refused.json()["detail"]
    assert _count(world, CaseCallback) == 0


def test_the_sampling_share_changes_from_now_on_and_is_audited(api, world, frozen):
    u = _users(api)
    assert api.post("/api/v1/feedback/sampling", headers=u["dispatcher"], json={"share_percent": 50}).status_code == 403
    past = api.post("/api/v1/feedback/sampling", headers=u["admin"],
                    json={"share_percent": 50, "effective_from": "2026-01-01T00:00:00+08:00"})
    assert past.status_code == 422
    assert api.post("/api/v1/feedback/sampling", headers=u["admin"], json={"share_percent": 101}).status_code == 422
    assert api.post("/api/v1/feedback/sampling", headers=u["admin"],
                    json={"share_percent": 100, "reason": "年底全量回访"}).status_code == 201
    case = _close(api, u, _handled(api, u, "CB-5", channel="wechat"))
    due = api.get("/api/v1/feedback/callbacks/due", headers=u["caller"],
                  params={"closed_from": "2026-12-01", "closed_to": "2026-12-01"}).json()
    assert [(d["case_id"], d["sampled_as"]) for d in due] == [(case["id"], "sample")]


def test_the_public_rates_its_own_report_once_after_closure(api, world, frozen):
    u = _users(api)
    case = _handled(api, u, "PR-1")
    url = f"/api/v1/public/cases/{case['tracking_code']}/rating"
    assert api.post(url, json={"rating": "满意"}).status_code == 409  # not closed yet
    reporter = api.get(f"/api/v1/feedback/cases/{case['id']}", headers=u["street"]).json()["reporters"][0]
    api.post(f"/api/v1/feedback/cases/{case['id']}/replies", headers=u["street"],
             json={"reporter_id": reporter["reporter_id"], "text": "违建已拆除，感谢监督", "way": "sms"})
    _close(api, u, api.get(f"/api/v1/cases/{case['id']}", headers=u["dispatcher"]).json())
    out_of_scale = api.post(url, json={"rating": "非常满意"})
    assert out_of_scale.status_code == 422 and out_of_scale.json()["errors"][0]["field"] == "rating"
    assert _count(world, PublicRating) == 0
    rated = api.post(url, json={"rating": "基本满意", "comment": "处理及时"})
    assert rated.status_code == 201 and rated.json()["rating"] == "basic"
    assert api.post(url, json={"rating": "不满意"}).status_code == 409
    assert api.post("/api/v1/public/cases/NOSUCHCODE/rating", json={"rating": "满意"}).status_code == 404
    page = api.get(f"/api/v1/public/cases/{case['tracking_code']}/feedback").json()
    assert page["replies"][0]["way"] == "短信" and "replied_by" not in page["replies"][0]
    assert page["rating"]["rating_label"] == "基本满意" and page["can_rate"] is False
    assert _count(world, CaseReply) == 1
