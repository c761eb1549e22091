"""One transition for many cases at once (批量): all or none, each case checked as if alone."""

from sqlalchemy import func, select

from gridgov.audit import service as audit
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.cases import service
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.schemas import MAX_BATCH, TransitionIn
from gridgov.errors import StaleVersion
from tests.cases.flow import ILLEGAL_STRUCTURE, move, report, sign_in


def _filed(api, intake, count: int, prefix: str = "B") -> list[dict]:
    return [move(api, intake, report(api, intake, ref=f"{prefix}-{i}"), "file", type_code=ILLEGAL_STRUCTURE)
            for i in range(count)]


def _batch(api, headers, name: str, cases: list[dict], expect: int = 200, **fields):
    response = api.post(f"/api/v1/cases/transitions/{name}", headers=headers,
                        json={"cases": [{"id": c["id"], "version": c["version"]} for c in cases], **fields})
    assert response.status_code == expect, response.text
    return response.json()


def _events(world, transition: str) -> int:
    with world.read() as db:
        return db.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.transition == transition))


def test_a_unit_receives_and_handles_a_page_of_its_queue_at_once(api, world, frozen):
    intake, dispatcher, fieldunit = (sign_in(api, name) for name in ("intake", "dispatcher", "fieldunit"))
    cases = _filed(api, intake, 3)
    dispatched = _batch(api, dispatcher, "dispatch", cases, unit_code="D002-01")
    assert [(c["id"], c["status"], c["version"]) for c in dispatched] == [
        (c["id"], "dispatched", c["version"] + 1) for c in cases]
    frozen.advance(minutes=10)
    received = _batch(api, fieldunit, "receive", dispatched)
    assert {c["status"] for c in received} == {"received"}
    handled = _batch(api, fieldunit, "report_result", received, result="已拆除")
    assert {c["status"] for c in handled} == {"handled"}
    for case in cases:
        detail = api.get(f"/api/v1/cases/{case['id']}", headers=dispatcher).json()
        assert detail["holder_unit_code"] == "D002-01"
        assert {c["node"]: c["state"] for c in detail["clocks"]} == {
            "intake": "on_time", "receipt": "on_time", "handling": "on_time", "verification": "running"}
        timeline = api.get(f"/api/v1/cases/{case['id']}/events", headers=dispatcher).json()
        assert [e["transition"] for e in timeline] == ["report", "file", "dispatch", "receive", "report_result"]
        assert timeline[2]["target_unit_code"] == "D002-01" and timeline[4]["payload"]["result"] == "已拆除"
    with world.read() as db:
        assert audit.verify(db).intact


def test_one_stale_case_refuses_the_whole_batch_and_names_it(api, world, frozen):
    intake, dispatcher = sign_in(api, "intake"), sign_in(api, "dispatcher")
    first, second, third = _filed(api, intake, 3)
    moved = move(api, dispatcher, second, "dispatch", unit_code="D002-01")
    problem = _batch(api, dispatcher, "dispatch", [first, second, third], expect=409, unit_code="D002-01")
    assert problem["case_id"] == second["id"] and problem["case_number"] == second["number"]
    assert problem["detail"].startswith(f"案件 {second['number']}：")
    assert _events(world, "dispatch") == 1
    for case in (first, third):
        assert api.get(f"/api/v1/cases/{case['id']}", headers=dispatcher).json()["version"] == case["version"]
    assert api.get(f"/api/v1/cases/{second['id']}", headers=dispatcher).json()["version"] == moved["version"]


def test_a_case_held_by_another_unit_refuses_the_batch_and_nothing_moves(api, world, frozen):
    intake, dispatcher, fieldunit = (sign_in(api, name) for name in ("intake", "dispatcher", "fieldunit"))
    ours, theirs = _filed(api, intake, 2)
    ours = move(api, dispatcher, ours, "dispatch", unit_code="D002-01")
    theirs = move(api, dispatcher, theirs, "dispatch", unit_code="D001", reason="由城管委牵头")
    problem = _batch(api, fieldunit, "receive", [ours, theirs], expect=404)
    assert problem["case_id"] == theirs["id"]  # a case outside the unit's scope is not revealed
    supervisor = sign_in(api, "supervisor")
    assert _batch(api, supervisor, "receive", [ours], expect=403)["type"] == "urn:gridgov:problem:forbidden"
    assert _events(world, "receive") == 0
    assert api.get(f"/api/v1/cases/{ours['id']}", headers=fieldunit).json()["status"] == "dispatched"


def test_a_batch_names_each_case_once_and_at_most_the_limit(api, frozen):
    intake, dispatcher = sign_in(api, "intake"), sign_in(api, "dispatcher")
    [case] = _filed(api, intake, 1)
    _batch(api, dispatcher, "dispatch", [case, case], expect=422, unit_code="D002-01")
    too_many = [{"id": i + 1, "version": 1} for i in range(MAX_BATCH + 1)]
    response = api.post("/api/v1/cases/transitions/close", headers=dispatcher, json={"cases": too_many})
    assert response.status_code == 422
    assert _batch(api, dispatcher, "teleport", [case], expect=422)["detail"] == "未知的操作：teleport"
    missing = _batch(api, dispatcher, "close", [case, {"id": 10**9, "version": 1}], expect=404)
    assert str(10**9) in missing["detail"]


def test_a_transition_is_checked_against_the_case_as_locked_not_as_read_before(world, world_settings, frozen,
                                                                                api):
    """The session of a slow request read the case before another request moved it: its
    transition, based on what it read, must lose (409) and leave the other request's change."""
    intake = sign_in(api, "intake")
    [case] = _filed(api, intake, 1)
    with world.read() as db:
        dispatcher = auth.principal_for(db, db.scalar(select(User).where(User.username == "dispatcher")))
    with world.write() as slow:
        seen = service.get_case(slow, case_id=case["id"])
        slow.commit()  # the request's first transaction ends; `seen` stays in its session as read
        with world.write() as fast:
            service.transition(fast, settings=world_settings, principal=dispatcher, case_id=case["id"],
                               name="dispatch", data=TransitionIn(version=case["version"], unit_code="D002-01"))
        try:
            service.transition(slow, settings=world_settings, principal=dispatcher, case_id=case["id"],
                               name="dispatch", data=TransitionIn(version=seen.version, unit_code="D001",
                                                                  reason="由城管委牵头"))
            raise AssertionError("a transition based on a version read before another change went through")
        except StaleVersion:
            slow.rollback()
    with world.read() as db:
        moved = db.get(Case, case["id"])
        assert (moved.status, moved.dispatch_count, moved.version) == ("dispatched", 1, case["version"] + 1)
