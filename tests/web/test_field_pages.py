"""The field page (巡查上报): report with a photo and a position, self-handle on the spot,
verification tasks of the user's area nearest first — on SQLite and PostgreSQL."""

import re

import pytest
from sqlalchemy import select

from gridgov.auth.policy import Role
from gridgov.cases.models import Attachment, Case, CaseEvent
from tests.cases.flow import EXPOSED_GARBAGE, move, png, report, sign_in
from tests.web.test_department_pages import ensure_account

# Points (GCJ-02) of the demo grid: two in 东华门 about 1.9 km apart, one in 景山.
DUOFU_LANE = (116.388742, 39.914898)  # 多福巷社区 (the housekeeper's community)
DHM_EAST = (116.408386, 39.909574)
JINGSHAN = (116.392685, 39.930918)
SMALL_ADS = "E020101"  # 小广告: an L1 type of the demo catalog


@pytest.fixture
def dhm_supervisor(world) -> str:
    """A supervisor of the 东华门 sub-centre: the street is the area."""
    return ensure_account(world, "dhm_supervisor", Role.SUPERVISOR, "110101001-FZX")


def photo(name: str = "photo.png", content: bytes | None = None):
    return (name, content if content is not None else png(), "image/png")


def submit(client, *, files: dict, **fields):
    data = {"description": "人行道上堆放建筑垃圾", "crs": "gcj02", "mode": "report", **fields}
    return client.post("/field", data=data, files=files, follow_redirects=False)


def located(point=DUOFU_LANE) -> dict:
    return {"lng": str(point[0]), "lat": str(point[1])}


def cases(world) -> list[Case]:
    with world.read() as db:
        return list(db.scalars(select(Case).order_by(Case.id)))


def error_beside(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert match, f"no error beside {field}"
    return match.group(1)


def test_supervisor_reports_a_problem_with_a_photo_through_the_patrol_channel(pages, world):
    supervisor = pages("supervisor")
    response = submit(supervisor, files={"photo": photo()}, lng="116.382500", lat="39.916000", crs="wgs84",
                      type_code=EXPOSED_GARBAGE)
    assert response.status_code == 303
    (case,) = cases(world)
    assert response.headers["location"] == f"/field?reported={case.number}"
    assert (case.channel_code, case.status, case.type_code) == ("supervisor_patrol", "reported", EXPOSED_GARBAGE)
    with world.read() as db:
        assert list(db.scalars(select(Attachment.kind).where(Attachment.case_id == case.id))) == ["report"]
    assert case.number in supervisor.get(response.headers["location"]).text


def test_report_without_location_shows_the_error_beside_the_location(pages, world):
    response = submit(pages("supervisor"), files={"photo": photo()})
    assert response.status_code == 422
    assert "使用当前位置" in error_beside(response.text, "location")
    assert "人行道上堆放建筑垃圾</textarea>" in response.text
    assert cases(world) == []


def test_missing_or_non_image_photo_and_a_point_outside_the_district_are_shown_beside_their_fields(
        pages, world):
    supervisor = pages("supervisor")
    response = submit(supervisor, files={}, **located())
    assert response.status_code == 422 and error_beside(response.text, "photo") == "请拍摄或选择一张照片"
    response = submit(supervisor, files={"photo": photo("x.png", b"%PDF-1.4 not a photo")}, **located())
    assert "图片" in error_beside(response.text, "photo")
    response = submit(supervisor, files={"photo": photo()}, lng="116.2", lat="39.8")
    assert "管辖范围" in error_beside(response.text, "location")
    assert cases(world) == []


def test_supervisor_self_handles_an_l1_case_with_before_and_after_photos(pages, world):
    response = submit(pages("supervisor"), files={"photo": photo(), "after_photo": photo("after.png")},
                      mode="self_handle", type_code=SMALL_ADS, result="已清除电线杆上的小广告",
                      description="电线杆上贴满小广告", **located())
    assert response.status_code == 303
    (case,) = cases(world)
    assert response.headers["location"] == f"/field?handled={case.number}"
    assert (case.status, case.grade, case.close_kind, case.type_code) == ("closed", "L1", "self_handled", SMALL_ADS)
    with world.read() as db:
        kinds = sorted(db.scalars(select(Attachment.kind).where(Attachment.case_id == case.id)))
        events = list(db.scalars(select(CaseEvent.transition).where(CaseEvent.case_id == case.id)
                                 .order_by(CaseEvent.id)))
    assert kinds == ["after", "before"]  # the scene photo is the before photo
    assert events == ["report", "self_handle"]


def test_self_handle_needs_the_after_photo_the_result_and_a_type_and_writes_nothing_without(pages, world):
    response = submit(pages("supervisor"), files={"photo": photo()}, mode="self_handle", **located())
    assert response.status_code == 422
    assert error_beside(response.text, "after_photo") == "请拍摄或选择一张照片"
    assert error_beside(response.text, "result") == "请写明现场处置情况"
    assert error_beside(response.text, "type_code") == "立即处置须选定事项类型"
    assert cases(world) == []


def test_housekeeper_self_handles_in_her_community_but_only_reports_outside_it(pages, world):
    housekeeper = pages("community")
    handled = dict(files={"photo": photo(), "after_photo": photo("after.png")}, mode="self_handle",
                   type_code=SMALL_ADS, result="已清除")
    response = submit(housekeeper, **handled, **located(DHM_EAST))
    assert response.status_code == 422 and "责任区" in error_beside(response.text, "location")
    assert cases(world) == []
    assert submit(housekeeper, **handled, **located(DUOFU_LANE)).status_code == 303
    (case,) = cases(world)
    assert (case.channel_code, case.status) == ("housekeeper_patrol", "closed")


def test_type_search_offers_matching_types(pages):
    html = pages("supervisor").get("/field/types", params={"type_q": "小广告"}).text
    assert f'<option value="{SMALL_ADS}"' in html


def _handled_case(api, u, ref: str, point) -> dict:
    case = report(api, u["intake"], ref=ref, point=point)
    case = move(api, u["intake"], case, "file", type_code=EXPOSED_GARBAGE)
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D001", reason="城管委统筹")
    case = move(api, u["department"], case, "receive")
    return move(api, u["department"], case, "report_result", result=f"{ref} 已清运")


def test_verification_tasks_list_only_the_users_area_nearest_first(pages, api, frozen, dhm_supervisor):
    u = {name: sign_in(api, name) for name in ("intake", "dispatcher", "department")}
    west = _handled_case(api, u, "GD-W", DUOFU_LANE)
    frozen.advance(minutes=5)
    east = _handled_case(api, u, "GD-E", DHM_EAST)
    elsewhere = _handled_case(api, u, "GD-J", JINGSHAN)
    supervisor = pages(dhm_supervisor)

    def listed(html: str) -> list[str]:
        return re.findall(r'<li class="task" id="task-(\d+)">', html)

    by_deadline = supervisor.get("/field").text
    assert listed(by_deadline) == [str(west["id"]), str(east["id"])]
    assert elsewhere["number"] not in by_deadline and "GD-W 已清运" in by_deadline
    near_east = supervisor.get("/field", params={"lng": DHM_EAST[0], "lat": DHM_EAST[1], "crs": "gcj02"}).text
    assert listed(near_east) == [str(east["id"]), str(west["id"])]
    assert re.search(r'<strong class="distance">0 米</strong>', near_east)
    assert re.search(r'<strong class="distance">1\.\d 公里</strong>', near_east)
    # the district's supervisor sees the whole district
    assert len(listed(pages("supervisor").get("/field").text)) == 3


def test_verify_from_a_task_opens_the_generic_form_returning_to_the_field_page(pages, api, frozen):
    u = {name: sign_in(api, name) for name in ("intake", "dispatcher", "department")}
    case = _handled_case(api, u, "GD-V", DUOFU_LANE)
    supervisor = pages("supervisor")
    assert f'hx-get="/cases/{case["id"]}/act/verify?return_to=/field"' in supervisor.get("/field").text
    response = supervisor.post(f"/cases/{case['id']}/act/verify", data={
        "version": case["version"], "note": "现场核查已清运", "return_to": "/field"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/field")
    assert supervisor.get("/field").text.count('class="task"') == 0


def test_field_page_is_for_patrolling_roles_only(pages):
    assert pages("department").get("/field").status_code == 403
    assert pages("supervisor").get("/field").status_code == 200
