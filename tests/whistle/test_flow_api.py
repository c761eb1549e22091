"""The whistle end to end through the API, on SQLite and PostgreSQL: the full flow on a case,
追哨, cancellation, late and missed report-ins."""

import io
from datetime import UTC, datetime

from sqlalchemy import func, select

from gridgov.audit import service as audit
from gridgov.audit.models import AuditEvent
from gridgov.whistle.models import WhistleEvent
from tests.cases.flow import png
from tests.whistle.flow import (
    departments, direct, finish, get, l3_case, rating, report_in, start, step, summons_of, users,
)


def test_full_flow_on_a_case_closes_the_whistle_and_the_case_together(api, whistle_world, frozen):
    u = users(api)
    with whistle_world.read() as db:
        first_seq = db.scalar(select(func.max(AuditEvent.seq))) + 1
    case = l3_case(api, u)
    assert case["status"] == "to_whistle" and case["holder_unit_code"] == "110101001"
    situation = api.get("/api/v1/whistles/situations/ZF03", headers=u["street"]).json()
    assert situation["name"] == "地下空间违规住人" and "D032" in [d["code"] for d in situation["departments"]]

    # 1. the street whistles on the case, choosing the situation and three departments
    whistle = start(api, u["street"], case_id=case["id"], case_version=case["version"], urgency="urgent",
                    departments=departments("D011", "D012", "D002"))
    assert (whistle["number"], whistle["status"], whistle["street_code"]) == ("CS2026000001", "filed", "110101001")
    assert whistle["situation"] == {"code": "ZF03", "name": "地下空间违规住人", "area": "enforcement",
                                    "area_label": "综合执法", "time_limit": "1 工作日", "active": True}
    assert whistle["unit_grid_code"] == case["unit_grid_code"] and whistle["case_number"] == case["number"]
    assert {s["status"] for s in whistle["summons"]} == {"pending"}
    summon_clock = whistle["clocks"][0]
    assert (summon_clock["node"], summon_clock["state"], summon_clock["limit"]) == ("summon", "running", "10 分钟")
    # departments see nothing before the district sends the summons
    get(api, u["housing"], whistle, expect=404)

    # 2. filed with the district, which sends the summons
    inbox = api.get("/api/v1/whistles/inbox", headers=u["dispatcher"]).json()
    assert [w["id"] for w in inbox["to_summon"]] == [whistle["id"]]
    frozen.advance(minutes=5)
    whistle = step(api, u["dispatcher"], whistle, "summon")
    assert whistle["status"] == "summoned"
    d011 = summons_of(whistle, "D011")
    assert d011["status"] == "sent"
    # 1 working day from Tue 10:05 (Beijing) is Wed 10:05; the cut-off two working days later
    assert d011["report_in_due_at"] == "2026-12-02T02:05:00Z" and d011["cutoff_at"] == "2026-12-04T02:05:00Z"
    assert whistle["clocks"][0]["state"] == "on_time"

    # 3. each department reports in and does its part; 东华门城管执法队 answers for 城管执法局
    get(api, u["department"], whistle, expect=404)  # 城管委 was not summoned
    frozen.advance(hours=1)
    whistle = report_in(api, u["fieldunit"], whistle, "D002", headcount=6, forces="执法车 2 辆")
    whistle = report_in(api, u["housing"], whistle, "D011")
    d002 = summons_of(whistle, "D002")
    assert (d002["status"], d002["assessment"], d002["responsiveness"]) == ("reported_in", "on_time", 100.0)
    assert d002["reported_by_unit_code"] == "D002-01" and d002["headcount"] == 6
    report_in(api, u["housing"], whistle, "D012", expect=403)  # not its summons
    frozen.now = datetime(2026, 12, 2, 8, 5, tzinfo=UTC)  # Wed 16:05: 4.5 working hours late
    whistle = report_in(api, u["police"], whistle, "D012")
    d012 = summons_of(whistle, "D012")
    assert (d012["assessment"], d012["lateness"], d012["responsiveness"]) == ("late", 0.6923, 65.4)
    upload = api.post(f"/api/v1/whistles/{whistle['id']}/attachments", headers=u["fieldunit"],
                      data={"kind": "material", "summons_id": str(d002["id"])},
                      files={"file": ("拆除前后.png", io.BytesIO(png()), "image/png")})
    assert upload.status_code == 201, upload.text
    refused = api.post(f"/api/v1/whistles/{whistle['id']}/attachments", headers=u["housing"],
                       data={"kind": "material", "summons_id": str(d002["id"])},
                       files={"file": ("x.png", io.BytesIO(png()), "image/png")})
    assert refused.status_code == 403
    whistle = finish(api, u["fieldunit"], whistle, "D002", attachment_ids=[upload.json()["id"]])
    whistle = finish(api, u["housing"], whistle, "D011")
    # the street cannot report the outcome while a department is still handling its part
    step(api, u["street"], whistle, "report_outcome", 409, outcome="x",
         ratings=[rating(whistle, code) for code in ("D002", "D011", "D012")])
    whistle = finish(api, u["police"], whistle, "D012")
    assert next(c for c in whistle["clocks"] if c["node"] == "outcome")["state"] == "running"

    # 4. outcome, one-to-one reply to the reporter, four ratings for every department
    ratings = [rating(whistle, "D002"), rating(whistle, "D011", (4, 4, 4, 5)),
               rating(whistle, "D012", (2, 3, 3, 3), comment="报到超时半天")]
    missing_reply = step(api, u["street"], whistle, "report_outcome", 422, outcome="已清理住人并封堵", ratings=ratings)
    assert {e["field"] for e in missing_reply["errors"]} == {"reply_text", "reply_way"}
    whistle = step(api, u["street"], whistle, "report_outcome", outcome="已清理住人，地下室封堵并移交产权单位管理",
                   ratings=ratings, reply_text="您反映的地下室住人问题已处理完毕", reply_way="phone")
    assert whistle["status"] == "reported" and whistle["reply_way"] == "phone"
    assert summons_of(whistle, "D012")["ratings"] == {
        "efficiency": 2, "cooperation": 3, "professionalism": 3, "responsibility": 3}

    # 5. the district verifies and closes the whistle — and the case, in the same transaction
    step(api, u["street"], whistle, "close", 403, note="x")
    whistle = step(api, u["dispatcher"], whistle, "close", note="核查属实，问题已解决")
    assert whistle["status"] == "closed"
    closed_case = api.get(f"/api/v1/cases/{case['id']}", headers=u["dispatcher"]).json()
    assert (closed_case["status"], closed_case["close_kind"]) == ("closed", "whistled")
    timeline = api.get(f"/api/v1/cases/{case['id']}/events", headers=u["dispatcher"]).json()
    assert timeline[-1]["transition"] == "close_whistled" and "CS2026000001" in timeline[-1]["reason"]
    trail = api.get(f"/api/v1/whistles/{whistle['id']}/events", headers=u["street"]).json()
    assert [e["transition"] for e in trail] == [
        "start", "summon", "report_in", "report_in", "report_in", "finish_part", "finish_part", "finish_part",
        "report_outcome", "close"]
    assert trail[2]["unit_code"] == "D002-01" and trail[2]["target_unit_code"] == "D002"
    record = api.get(f"/api/v1/whistles/{whistle['id']}/assessment", headers=u["leader"]).json()
    assert {(r["unit_code"], r["assessment"], r["responsiveness"], r["rating_average"], r["final"])
            for r in record} == {("D011", "on_time", 100.0, 4.25, True), ("D012", "late", 65.4, 2.75, True),
                                 ("D002", "on_time", 100.0, 5.0, True)}
    with whistle_world.read() as db:
        assert audit.verify(db).intact
        actions = db.scalars(select(AuditEvent.action).where(AuditEvent.seq >= first_seq,
                                                             AuditEvent.object_type == "whistle")).all()
    assert actions.count("whistle.report_in") == 3 and "whistle.close" in actions


def test_add_departments_then_cancel_missed_and_withdrawn(api, whistle_world, frozen):
    u = users(api)
    whistle = direct(api, u["street"], "YJ02", "D012")  # 燃气泄漏: 15 minutes
    assert whistle["case_id"] is None and whistle["clocks"][0]["limit"] == "10 分钟"  # emergencies: 10 min
    whistle = step(api, u["dispatcher"], whistle, "summon")
    assert summons_of(whistle, "D012")["report_in_due_at"] == "2026-12-01T02:15:00Z"
    frozen.advance(minutes=5)
    # 追哨: the street summons 房管局 too; the district sends it
    step(api, u["police"], whistle, "add_departments", 403, departments=departments("D011"))
    step(api, u["street"], whistle, "add_departments", 422, departments=departments("D012"))  # already summoned
    whistle = step(api, u["street"], whistle, "add_departments", departments=departments("D011"))
    assert summons_of(whistle, "D011")["status"] == "pending"
    assert summons_of(whistle, "D011")["added_by"] == "add_departments"
    frozen.advance(minutes=1)
    whistle = step(api, u["dispatcher"], whistle, "summon")
    assert summons_of(whistle, "D011")["report_in_due_at"] == "2026-12-01T02:21:00Z"
    step(api, u["dispatcher"], whistle, "summon", 409)  # nothing left to send
    frozen.advance(minutes=14)  # 20 minutes in: 公安 is past its deadline, 房管 is not
    step(api, u["street"], whistle, "cancel", 422)  # a reason is required
    whistle = step(api, u["street"], whistle, "cancel", reason="燃气公司已先期处置完毕，无需联合处置")
    assert whistle["status"] == "cancelled" and whistle["cancel_reason"].startswith("燃气公司")
    d012, d011 = summons_of(whistle, "D012"), summons_of(whistle, "D011")
    assert (d012["status"], d012["assessment"], d012["responsiveness"]) == ("missed", "missed", 0.0)
    assert (d011["status"], d011["assessment"], d011["responsiveness"]) == ("withdrawn", "withdrawn", None)
    assert {c["state"] for c in whistle["clocks"]} <= {"on_time", "late"}  # every clock stopped
    report_in(api, u["police"], whistle, "D012", expect=409)
    trail = api.get(f"/api/v1/whistles/{whistle['id']}/events", headers=u["dispatcher"]).json()
    assert [e["transition"] for e in trail] == ["start", "summon", "add_departments", "summon", "cancel"]
    assert trail[-1]["payload"]["ended"] == {"D012": "missed", "D011": "withdrawn"}


def test_late_and_missed_report_ins_and_the_outcome_without_a_no_show(api, whistle_world, frozen):
    u = users(api)
    whistle = direct(api, u["street"], "YJ01", "D012", "D011", "D001")  # 汛期积水抢险: 30 minutes
    whistle = step(api, u["dispatcher"], whistle, "summon")
    frozen.advance(minutes=20)
    step(api, u["street"], whistle, "report_outcome", 409, outcome="x", ratings=[rating(whistle, "D012")])
    frozen.advance(minutes=10)
    whistle = report_in(api, u["housing"], whistle, "D011")  # exactly at the deadline: on time
    assert summons_of(whistle, "D011")["responsiveness"] == 100.0
    frozen.advance(minutes=15)
    whistle = report_in(api, u["police"], whistle, "D012")  # 15 of 30 minutes late
    assert (summons_of(whistle, "D012")["assessment"], summons_of(whistle, "D012")["responsiveness"]) == ("late", 75.0)
    whistle = finish(api, u["police"], whistle, "D012")
    whistle = finish(api, u["housing"], whistle, "D011")
    inbox = api.get("/api/v1/whistles/inbox", headers=u["street"]).json()
    assert [w["id"] for w in inbox["to_report_outcome"]] == [whistle["id"]]
    # 城管委 never came: past its deadline the street may report the outcome without it
    bad = step(api, u["street"], whistle, "report_outcome", 422, outcome="积水已排除",
               ratings=[rating(whistle, "D012", (6, 0, 3, "5")), rating(whistle, "D012")])
    assert {e["field"] for e in bad["errors"]} == {
        "ratings[0].efficiency", "ratings[0].cooperation", "ratings[0].responsibility", "ratings[1].summons_id",
        "ratings"}  # out of range ×3, a duplicate, and 房管局 not rated
    with whistle_world.read() as db:
        events = db.scalar(select(func.count()).select_from(WhistleEvent))
    whistle = step(api, u["street"], whistle, "report_outcome", outcome="积水已排除，道路恢复通行",
                   ratings=[rating(whistle, "D012", (4, 4, 3, 5)), rating(whistle, "D011"),
                            rating(whistle, "D001", (1, 1, 1, 1), comment="未报到")])
    with whistle_world.read() as db:
        assert db.scalar(select(func.count()).select_from(WhistleEvent)) == events + 1
    d001 = summons_of(whistle, "D001")
    assert (d001["status"], d001["assessment"], d001["responsiveness"]) == ("missed", "missed", 0.0)
    # the district sends it back once, then closes
    whistle = step(api, u["dispatcher"], whistle, "return_outcome", reason="请补充排水集团处置情况")
    assert whistle["status"] == "summoned"
    whistle = step(api, u["street"], whistle, "report_outcome", outcome="积水已排除，排水集团已疏通雨水口",
                   ratings=[rating(whistle, "D012", (4, 4, 3, 5)), rating(whistle, "D011")])
    whistle = step(api, u["dispatcher"], whistle, "close", note="核查通过")
    assert whistle["status"] == "closed" and whistle["case_id"] is None


def test_refusals_change_nothing(api, whistle_world, frozen):
    u = users(api)
    case = l3_case(api, u, ref="GD-W2")
    # a situation that does not exist, a unit that is not a department
    unknown = start(api, u["street"], 422, case_id=case["id"], situation_code="ZZ99")
    assert unknown["errors"][0]["field"] == "situation_code"
    bad_units = start(api, u["street"], 422, case_id=case["id"],
                      departments=departments("110101001-K01", "110101001001", "NOPE", "D011", "D011"))
    assert [e["field"] for e in bad_units["errors"]] == [
        "departments[0].unit_code", "departments[1].unit_code", "departments[2].unit_code",
        "departments[4].unit_code"]
    # a street whistling on another street's case; roles that may not whistle
    start(api, u["jgm_street"], 403, case_id=case["id"])
    start(api, u["dispatcher"], 403, case_id=case["id"])
    # without a case only key work and emergencies; the place must be in the street
    direct(api, u["street"], "ZF01", "D002", expect=422)
    direct(api, u["street"], "ZD12", "D012", expect=422, lng=116.397, lat=39.925)  # in 景山
    # a retired situation
    retired = api.post("/api/v1/whistles/situations/ZF04/retire", headers=u["admin"], json={"reason": "合并"})
    assert retired.status_code == 200 and retired.json()["active"] is False
    start(api, u["street"], 422, case_id=case["id"], situation_code="ZF04")
    with whistle_world.read() as db:
        assert db.scalar(select(func.count()).select_from(WhistleEvent)) == 0

    whistle = start(api, u["street"], case_id=case["id"])
    start(api, u["street"], 409, case_id=case["id"])  # one open whistle per case
    step(api, u["dispatcher"], whistle, "close", 409, note="x")  # wrong state
    step(api, u["street"], whistle, "summon", 403)  # wrong actor
    step(api, u["dispatcher"], whistle, "nope", 422)
    summoned = step(api, u["dispatcher"], whistle, "summon")
    step(api, u["street"], whistle, "cancel", 409, reason="x")  # stale: the whistle moved on
    report_in(api, u["police"], summoned, "D011", expect=404)  # 公安 was not summoned: cannot see it
    report_in(api, u["housing"], summoned, "D011", expect=422, place="")  # missing field
    stale = dict(summons_of(summoned, "D011"), version=99)
    step(api, u["housing"], summoned, "report_in", 409, summons=stale, place="x", leader="x", headcount=1)
    with whistle_world.read() as db:
        assert db.scalar(select(func.count()).select_from(WhistleEvent)) == 2


def test_retired_situation_stays_readable_on_its_whistles(api, whistle_world, frozen):
    u = users(api)
    whistle = direct(api, u["street"], "ZD12", "D012")  # 大型活动保障
    response = api.post("/api/v1/whistles/situations/ZD12/retire", headers=u["admin"], json={"reason": "并入 ZD05"})
    assert response.status_code == 200
    shown = get(api, u["street"], whistle)["situation"]
    assert shown == {"code": "ZD12", "name": "大型活动保障", "area": "key_work", "area_label": "重点工作",
                     "time_limit": "1 工作日", "active": False}
    assert api.get("/api/v1/whistles/situations/ZD12", headers=u["police"]).json()["retire_reason"] == "并入 ZD05"
    listed = api.get("/api/v1/whistles", headers=u["street"], params={"situation": "ZD12"}).json()
    assert [w["number"] for w in listed["items"]] == [whistle["number"]] and listed["total"] == 1


def test_visibility_follows_the_street_and_the_summons(api, whistle_world, frozen):
    u = users(api)
    whistle = direct(api, u["street"], "YJ03", "D002")  # 树木倒伏, 城管执法局 summoned
    step(api, u["dispatcher"], whistle, "summon")
    for name, expected in (("street", 1), ("dispatcher", 1), ("leader", 1), ("fieldunit", 1), ("jgm_street", 0),
                           ("housing", 0), ("department", 0)):
        page = api.get("/api/v1/whistles", headers=u[name]).json()
        assert page["total"] == expected, name
    inbox = api.get("/api/v1/whistles/inbox", headers=u["fieldunit"]).json()
    assert [w["id"] for w in inbox["to_report_in"]] == [whistle["id"]]


def test_a_case_under_an_open_whistle_is_not_sent_elsewhere_or_force_closed(api, whistle_world, frozen):
    u = users(api)
    case = l3_case(api, u, ref="GD-W3")
    whistle = start(api, u["street"], case_id=case["id"])
    whistle = step(api, u["dispatcher"], whistle, "summon")
    case = api.get(f"/api/v1/cases/{case['id']}", headers=u["dispatcher"]).json()
    for name, fields in (("force_close", {"reason": "经研判强制结案"}), ("dispatch", {"unit_code": "D011"})):
        refused = api.post(f"/api/v1/cases/{case['id']}/transitions/{name}", headers=u["dispatcher"],
                           json={"version": case["version"], **fields})
        assert refused.status_code == 409, refused.text
        assert whistle["number"] in refused.json()["detail"]
    assert api.get("/api/v1/cases/inbox", headers=u["street"]).json()["to_whistle"] == []
    step(api, u["street"], whistle, "cancel", reason="改由职能部门单独处置")
    assert [c["id"] for c in api.get("/api/v1/cases/inbox", headers=u["street"]).json()["to_whistle"]] == [case["id"]]
    closed = api.post(f"/api/v1/cases/{case['id']}/transitions/force_close", headers=u["dispatcher"],
                      json={"version": case["version"], "reason": "经研判强制结案"})
    assert closed.status_code == 200, closed.text
