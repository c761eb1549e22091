"""The department workbench: the unit's inbox by tab, one-click receipt, actions that fit the
case, and the whistle summons to report in to — on SQLite and PostgreSQL."""

import re

from sqlalchemy import func, select

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.auth.policy import Role
from gridgov.auth.schemas import UserIn
from gridgov.cases.models import Case, CaseEvent
from gridgov.config import Settings
from gridgov.db import Database
from gridgov.demo.loader import DEMO_PASSWORD
from tests.cases.flow import EXPOSED_GARBAGE, move, report, sign_in
from tests.whistle.conftest import whistle_database, whistle_world  # noqa: F401
from tests.whistle.flow import l3_case, start, step
from tests.whistle.flow import users as whistle_users

TABS = ("新派件", "退回", "即将超时", "已超时", "处置中")


def ensure_account(world: Database, username: str, role: Role, unit_code: str) -> str:
    """A demo-password account beyond the demo ones (kept for the session's other tests)."""
    settings = Settings(database_url=world.url, password_hash_profile="fast-for-tests",
                        secret_key="test-secret-key")
    with world.write() as db:
        if db.scalar(select(User.id).where(User.username == username)) is None:
            auth.create_user(db, settings=settings, actor=SYSTEM_ACTOR, data=UserIn(
                username=username, display_name=username, password=DEMO_PASSWORD, unit_code=unit_code,
                roles=[role]))
            db.commit()
    return username


def _users(api) -> dict[str, dict[str, str]]:
    return {name: sign_in(api, name) for name in ("intake", "dispatcher", "department", "fieldunit")}


def _dispatched(api, u, ref: str, unit_code: str) -> dict:
    case = report(api, u["intake"], ref=ref)
    case = move(api, u["intake"], case, "file", type_code=EXPOSED_GARBAGE)
    return move(api, u["dispatcher"], case, "dispatch", unit_code=unit_code, reason="按领导批示派往该单位")


def tab_counts(html: str) -> dict[str, int]:
    return {label: int(n) for label, n in re.findall(r'>([^<>\s]+) <span class="count">(\d+)</span>', html)}


def listed(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="case-(\d+)">', html)]


def test_department_sees_only_its_own_cases_in_each_tab_with_counts(pages, api, frozen):
    u = _users(api)
    new = _dispatched(api, u, "GD-N", "D001")
    in_hand = move(api, u["department"], _dispatched(api, u, "GD-H", "D001"), "receive")
    others = _dispatched(api, u, "GD-O", "D002-01")
    department = pages("department")
    html = department.get("/department").text
    assert tab_counts(html) == {"新派件": 1, "退回": 0, "即将超时": 0, "已超时": 0, "处置中": 1}
    assert listed(html) == [new["id"]] and '<a href="/department?tab=new" aria-current="page">' in html
    assert listed(department.get("/department?tab=in_hand").text) == [in_hand["id"]]
    frozen.advance(hours=2)  # past the new case's 1 working hour to receive it
    html = department.get("/department?tab=overdue").text
    assert tab_counts(html)["已超时"] == 1 and listed(html) == [new["id"]]
    assert 'class="clock"' in html and "签收" in html
    for tab in ("new", "returned", "due_soon", "overdue", "in_hand"):
        assert others["id"] not in listed(department.get(f"/department?tab={tab}").text)
    # the refresh asks for the tab list alone
    part = department.get("/department?tab=overdue&part=inbox").text
    assert part.lstrip().startswith('<div id="inbox"') and "<html" not in part
    assert 'hx-trigger="every 30s' in part


def test_receiving_from_the_workbench_moves_the_case_and_writes_one_event(pages, api, world, frozen):
    u = _users(api)
    case = _dispatched(api, u, "GD-R", "D001")
    department = pages("department")
    html = department.get("/department").text
    assert f'action="/cases/{case["id"]}/act/receive"' in html
    response = department.post(f"/cases/{case['id']}/act/receive",
                               data={"version": case["version"], "return_to": "/department"},
                               follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/department")
    with world.read() as db:
        assert db.get(Case, case["id"]).status == "received"
        assert db.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case["id"], CaseEvent.transition == "receive")) == 1
    assert tab_counts(department.get("/department").text) == {
        "新派件": 0, "退回": 0, "即将超时": 0, "已超时": 0, "处置中": 1}


def test_checked_cases_are_received_together_or_not_at_all(pages, api, world, frozen):
    u = _users(api)
    first, second = (_dispatched(api, u, f"GD-B{i}", "D001") for i in range(2))
    department = pages("department")
    html = department.get("/department").text
    assert f'value="{first["id"]}:{first["version"]}" form="receive-checked"' in html

    def receive(*cases, **kwargs):
        return department.post("/department/receive", {"cases": [f"{c['id']}:{c['version']}" for c in cases]},
                               **kwargs)

    move(api, u["department"], second, "receive")  # by a colleague, meanwhile
    refused = receive(first, second)
    assert refused.status_code == 409 and second["number"] in refused.text and 'role="alert"' in refused.text
    with world.read() as db:
        assert db.get(Case, first["id"]).status == "dispatched"
    response = receive(first, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/department?tab=new")
    with world.read() as db:
        assert db.get(Case, first["id"]).status == "received"
    assert tab_counts(department.get("/department").text)["处置中"] == 2
    assert department.post("/department/receive", {}).status_code == 422
    assert department.post("/department/receive", {"cases": "12:x"}).status_code == 422
    twice = department.post("/department/receive", {"cases": [f"{second['id']}:9", f"{second['id']}:9"]})
    assert twice.status_code == 422 and "只能出现一次" in twice.text


def test_a_case_of_another_department_is_not_listed_and_its_actions_answer_not_found(pages, api, world, frozen):
    u = _users(api)
    others = _dispatched(api, u, "GD-X", "D002-01")
    department = pages("department")
    assert others["number"] not in department.get("/department").text
    assert department.get(f"/cases/{others['id']}/act/receive?return_to=/department").status_code == 404
    refused = department.post(f"/cases/{others['id']}/act/receive",
                              data={"version": others["version"], "return_to": "/department"})
    assert refused.status_code == 404 and "不存在" in refused.text
    with world.read() as db:
        assert db.get(Case, others["id"]).status == "dispatched"


def test_a_case_a_sub_unit_sent_back_is_in_the_returned_tab_with_the_actions_that_fit(pages, api, world, frozen):
    u = _users(api)
    enforcement = sign_in(api, ensure_account(world, "enforcement", Role.DEPARTMENT, "D002"))
    case = move(api, enforcement, _dispatched(api, u, "GD-S", "D002"), "receive")
    case = move(api, enforcement, case, "redispatch", unit_code="D002-01")
    # the field unit sees it as new; having been passed down, it goes back to its sender
    html = pages("fieldunit").get("/department").text
    assert listed(html) == [case["id"]]
    assert f'/cases/{case["id"]}/act/return_to_sender?' in html and "return_to_district" not in html
    move(api, u["fieldunit"], case, "return_to_sender", reason="不属本队辖区职责")
    html = pages("enforcement").get("/department?tab=returned").text
    assert tab_counts(html)["退回"] == 1 and listed(html) == [case["id"]]
    for name in ("report_result", "redispatch", "return_to_district", "request_extension"):
        assert f'/cases/{case["id"]}/act/{name}?return_to=/department' in html
    # a unit with no units below it is not offered the re-dispatch
    in_hand = move(api, u["department"], _dispatched(api, u, "GD-T", "D001"), "receive")
    html = pages("department").get("/department?tab=in_hand").text
    assert f'/cases/{in_hand["id"]}/act/report_result?' in html and "/act/redispatch" not in html


def test_whistle_summons_are_listed_with_the_report_in_deadline(pages, api, whistle_world, frozen):  # noqa: F811
    u = whistle_users(api)
    whistle = start(api, u["street"], case_id=(case := l3_case(api, u))["id"], case_version=case["version"],
                    departments=[{"unit_code": "D001", "task": "城管委派员到场协调"}])
    whistle = step(api, u["dispatcher"], whistle, "summon")
    html = pages("department").get("/department").text
    assert whistle["number"] in html and f'href="/whistles/{whistle["id"]}"' in html
    assert "城管委派员到场协调" in html and "去报到" in html
    due = next(s for s in whistle["summons"] if s["unit_code"] == "D001")["report_in_due_at"]
    assert f'data-deadline="{due.replace("Z", "+00:00")}"' in html


def test_the_workbench_is_for_units_that_handle_cases(pages):
    assert pages("supervisor").get("/department").status_code == 403
