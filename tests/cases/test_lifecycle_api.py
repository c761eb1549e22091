"""Every path of the case lifecycle, end to end through the API, on SQLite and PostgreSQL."""

from sqlalchemy import select

from gridgov.audit import service as audit
from gridgov.cases.models import CaseEvent
from tests.cases.flow import EXPOSED_GARBAGE, ILLEGAL_STRUCTURE, move, png, report, sign_in, upload


def _users(api):
    return {name: sign_in(api, name) for name in (
        "intake", "dispatcher", "department", "fieldunit", "supervisor", "street", "community", "citizen",
        "leader")}


def test_l2_case_with_a_return_and_a_redispatch_runs_to_closure(api, world, frozen):
    u = _users(api)
    case = report(api, u["intake"])
    assert case["status"] == "reported" and case["street_code"] == "110101001"
    assert [c["node"] for c in case["clocks"]] == ["intake"]
    case = move(api, u["intake"], case, "file", type_code=ILLEGAL_STRUCTURE)
    suggestion = api.get(f"/api/v1/cases/{case['id']}/suggestion", headers=u["dispatcher"]).json()
    assert suggestion["unit_code"] == "D002-01" and suggestion["rule_id"]
    # overriding the duty matrix needs a reason
    move(api, u["dispatcher"], case, "dispatch", expect=422, unit_code="D001")
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D001", reason="领导批示先由城管委牵头")
    assert case["holder_unit_code"] == "D001"
    assert {c["node"]: c["state"] for c in case["clocks"]} == {
        "intake": "on_time", "receipt": "running", "handling": "running"}
    frozen.advance(minutes=20)
    case = move(api, u["department"], case, "receive")
    case = move(api, u["department"], case, "return_to_district", reason="违法建设查处属城管执法职责")
    assert case["status"] == "returned" and case["holder_unit_code"] is None
    case = move(api, u["dispatcher"], case, "dispatch", unit_code=suggestion["unit_code"])
    case = move(api, u["fieldunit"], case, "receive")
    after = upload(api, u["fieldunit"], case, "after")
    frozen.advance(hours=2)
    case = move(api, u["fieldunit"], case, "report_result", result="已拆除违建并恢复原状", attachment_ids=[after])
    assert case["status"] == "handled"
    case = move(api, u["supervisor"], case, "verify", note="现场核查已拆除")
    case = move(api, u["dispatcher"], case, "close")
    assert case["status"] == "closed" and case["close_kind"] == "normal"
    handling = [c for c in case["clocks"] if c["node"] == "handling"]
    assert [c["state"] for c in handling] == ["on_time", "on_time"]
    timeline = api.get(f"/api/v1/cases/{case['id']}/events", headers=u["dispatcher"]).json()
    assert [e["transition"] for e in timeline] == [
        "report", "file", "dispatch", "receive", "return_to_district", "dispatch", "receive",
        "report_result", "verify", "close"]
    assert timeline[2]["reason"] == "领导批示先由城管委牵头" and timeline[2]["target_unit_code"] == "D001"
    with world.read() as db:
        assert audit.verify(db).intact


def test_l1_case_is_self_handled_with_before_and_after_photos(api, frozen):
    u = _users(api)
    case = report(api, u["community"], ref=None, channel="housekeeper_patrol", description="墙上少量小广告",
                  point=(None, None), grid_code="110101001001001")  # in the housekeeper's own community
    before, after = upload(api, u["community"], case, "before"), upload(api, u["community"], case, "after")
    move(api, u["community"], case, "self_handle", expect=422, type_code="E020101", result="已清除")
    case = move(api, u["community"], case, "self_handle", type_code="E020101", result="已清除",
                before_photo=before, after_photo=after)
    assert (case["status"], case["grade"], case["close_kind"]) == ("closed", "L1", "self_handled")


def test_secondary_dispatch_by_the_street_and_return_to_sender(api, frozen):
    u = _users(api)
    case = report(api, u["intake"], ref="GD-2")
    case = move(api, u["intake"], case, "file", type_code=EXPOSED_GARBAGE)
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="110101001", reason="街道统筹")
    case = move(api, u["street"], case, "receive")
    # the street may pass it to its own section or a field unit serving the street, nobody else
    move(api, u["street"], case, "redispatch", expect=422, unit_code="D015")
    case = move(api, u["street"], case, "redispatch", unit_code="110101001-K01")
    assert case["holder_unit_code"] == "110101001-K01"
    # a department the case was never sent to cannot even see it
    move(api, u["department"], case, "receive", expect=404)
    # passed back up to the street, which may then return it to the district
    move(api, u["street"], case, "return_to_district", expect=409, reason="x")
    case = move(api, u["street"], case, "return_to_sender", reason="需街道统筹")
    assert (case["status"], case["holder_unit_code"]) == ("received", "110101001")
    case = move(api, u["street"], case, "return_to_district", reason="非街道职责")
    assert case["status"] == "returned"


def test_extension_moves_the_handling_deadline_and_suspension_stops_the_clock(api, frozen):
    u = _users(api)
    case = report(api, u["intake"], ref="GD-3")
    case = move(api, u["intake"], case, "file", type_code=ILLEGAL_STRUCTURE)
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D002-01")
    case = move(api, u["fieldunit"], case, "receive")
    deadline = next(c["deadline_at"] for c in case["clocks"] if c["node"] == "handling")
    case = move(api, u["fieldunit"], case, "request_extension", extra_value=2, extra_unit="working_days",
                reason="需协调产权单位")
    move(api, u["fieldunit"], case, "request_extension", expect=409, extra_value=1,
         extra_unit="working_days", reason="again")
    move(api, u["dispatcher"], case, "decide_extension", expect=422, approved=False)
    case = move(api, u["dispatcher"], case, "decide_extension", approved=True)
    extended = next(c for c in case["clocks"] if c["node"] == "handling" and c["finished_at"] is None)
    assert extended["extended"] and extended["deadline_at"] > deadline
    case = move(api, u["dispatcher"], case, "suspend", reason="等待产权单位提供材料")
    assert {c["state"] for c in case["clocks"] if c["finished_at"] is None} == {"paused"}
    frozen.advance(days=10)
    case = move(api, u["dispatcher"], case, "resume")
    assert case["status"] == "received"
    running = next(c for c in case["clocks"] if c["node"] == "handling" and c["finished_at"] is None)
    assert running["state"] == "running" and running["deadline_at"] > extended["deadline_at"]


def test_rework_after_a_failed_verification_then_forced_closure(api, frozen):
    u = _users(api)
    case = report(api, u["intake"], ref="GD-4")
    case = move(api, u["intake"], case, "file", type_code=ILLEGAL_STRUCTURE)
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D002-01")
    case = move(api, u["fieldunit"], case, "receive")
    case = move(api, u["fieldunit"], case, "report_result", result="已处理")
    case = move(api, u["supervisor"], case, "rework", reason="现场仍有违建")
    assert case["status"] == "received" and case["holder_unit_code"] == "D002-01"
    move(api, u["fieldunit"], case, "force_close", expect=403, reason="x")
    move(api, u["dispatcher"], case, "force_close", expect=422)
    case = move(api, u["dispatcher"], case, "force_close", reason="当事人已自行拆除，经研判强制结案")
    assert (case["status"], case["close_kind"]) == ("closed", "forced")


def test_supervision_is_put_on_and_cleared(api, frozen):
    u = _users(api)
    case = report(api, u["intake"], ref="GD-5")
    case = move(api, u["dispatcher"], case, "supervise", reason="群众多次反映")
    assert case["supervised"]
    move(api, u["dispatcher"], case, "supervise", expect=409, reason="again")
    listed = api.get("/api/v1/cases", headers=u["leader"], params={"supervised": True}).json()
    assert [c["id"] for c in listed["items"]] == [case["id"]]
    case = move(api, u["dispatcher"], case, "clear_supervision", reason="问题已解决，销账")
    assert not case["supervised"]


def test_merge_keeps_every_reporter(api, frozen):
    u = _users(api)
    first = report(api, u["intake"], ref="GD-6")
    second = report(api, u["intake"], ref="GD-7", reporter_name="李四", reporter_phone="13900000000")
    accepted = api.post("/api/v1/cases", headers=u["intake"], json={
        "channel": "hotline_12345", "channel_ref": "GD-8", "description": "同一处私搭乱建",
        "lng": 116.4036, "lat": 39.9135}).json()
    assert {d["id"] for d in accepted["likely_duplicates"]} >= {first["id"], second["id"]}
    merged = move(api, u["intake"], second, "merge", into_case_id=first["id"])
    assert merged["status"] == "merged"
    kept = api.get(f"/api/v1/cases/{first['id']}", headers=u["dispatcher"]).json()
    assert sorted(r["name"] for r in kept["reporters"]) == ["张三丰", "李四"]


def test_l3_case_waits_for_the_street_whistle(api, frozen):
    u = _users(api)
    case = report(api, u["intake"], ref="GD-9")
    case = move(api, u["intake"], case, "file", type_code="C050301")
    assert case["grade"] == "L3"
    case = move(api, u["dispatcher"], case, "send_to_whistle", reason="涉及多个部门")
    assert case["status"] == "to_whistle" and case["holder_unit_code"] == "110101001"
    inbox = api.get("/api/v1/cases/inbox", headers=u["street"]).json()
    assert [c["id"] for c in inbox["to_whistle"]] == [case["id"]]


def test_each_step_is_one_event_in_the_same_transaction(api, world, frozen):
    u = _users(api)
    case = report(api, u["intake"], ref="GD-10")
    move(api, u["intake"], case, "file", type_code="NOPE", expect=404)
    with world.read() as db:
        events = db.scalars(select(CaseEvent.transition).where(CaseEvent.case_id == case["id"])).all()
    assert events == ["report"]
    assert api.get(f"/api/v1/cases/{case['id']}", headers=u["intake"]).json()["status"] == "reported"
    assert png()[:4] == b"\x89PNG"


def test_a_transition_that_flushes_several_times_still_counts_one_version(api, frozen):
    u = _users(api)
    case = report(api, u["intake"], ref="GD-11")
    closed = move(api, u["dispatcher"], case, "force_close", reason="重复件", note="核实", approved=True)
    assert closed["version"] == case["version"] + 1
