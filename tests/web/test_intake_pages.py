"""受理 pages: the new-report form with its field errors, idempotent channel references,
likely duplicates with one-click merge, type-ahead, live place check, waiting reports."""

import io
import re

from sqlalchemy import func, select

from gridgov.cases.models import Case
from tests.cases.flow import DONGHUAMEN, ILLEGAL_STRUCTURE, move, png, report, sign_in

OUTSIDE_DONGCHENG = (116.20, 39.80)  # Fengtai, south-west of the district


def _form(**overrides) -> dict:
    return {"channel": "hotline_12345", "channel_ref": "GD-WEB-1", "reported_at": "2026-12-01T09:55",
            "reporter_name": "赵六", "reporter_phone": "13900001111",
            "description": "胡同口有人私搭乱建彩钢房", "lng": str(DONGHUAMEN[0]), "lat": str(DONGHUAMEN[1]),
            "crs": "gcj02", "address": "东华门大街 12 号", **overrides}


def _post(client, data: dict, photos: list[tuple[str, bytes]] = ()):
    files = [("photos", (name, io.BytesIO(content), "application/octet-stream"))
             for name, content in photos]
    return client.client.post("/intake", data={"csrf_token": client.csrf_token, **data},
                              files=files or None)


def _error_of(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert match, f"no error shown next to {field}"
    return match.group(1)


def _cases(world) -> int:
    with world.read() as db:
        return db.scalar(select(func.count()).select_from(Case))


def test_intake_form_offers_the_12345_hotline_first_and_staff_channels_only(pages):
    html = pages("intake").get("/intake").text
    options = re.findall(r'<option value="([a-z_0-9]+)" data-requires-ref', html)
    assert options[0] == "hotline_12345"
    assert "snapshot" not in options and "supervisor_patrol" in options
    assert 'data-requires-ref="true"' in html and 'id="intake-map"' in html


def test_missing_description_is_shown_next_to_its_field_and_nothing_is_saved(pages, world):
    response = _post(pages("intake"), _form(description=""))
    assert response.status_code == 422
    assert _error_of(response.text, "description") == "必填"
    assert 'value="GD-WEB-1"' in response.text  # what was typed is kept
    assert _cases(world) == 0


def test_a_point_outside_dongcheng_is_refused_beside_the_place(pages, world):
    response = _post(pages("intake"), _form(lng=str(OUTSIDE_DONGCHENG[0]), lat=str(OUTSIDE_DONGCHENG[1])))
    assert response.status_code == 422
    assert "不在管辖范围内" in _error_of(response.text, "place")
    assert _cases(world) == 0


def test_a_missing_place_and_an_unknown_grid_code_are_named(pages, world):
    client = pages("intake")
    response = _post(client, _form(lng="", lat=""))
    assert "请在地图上点选位置" in _error_of(response.text, "place")
    response = _post(client, _form(lng="", lat="", grid_code="110101999999999"))
    assert "不存在" in _error_of(response.text, "grid_code")
    assert _cases(world) == 0


def test_a_photo_that_is_not_an_image_is_refused_beside_the_photos(pages, world):
    response = _post(pages("intake"), _form(), photos=[("ok.png", png()), ("notes.txt", b"just some text")])
    assert response.status_code == 422
    assert "notes.txt" in _error_of(response.text, "photos")
    assert "ok.png" not in _error_of(response.text, "photos")
    assert _cases(world) == 0


def test_an_oversize_photo_is_refused_beside_the_photos(pages, world):
    big = png() + b"\0" * (10 * 1024 * 1024)
    response = _post(pages("intake"), _form(), photos=[("big.png", big)])
    assert response.status_code == 422
    assert "10 MB" in _error_of(response.text, "photos")
    assert _cases(world) == 0


def test_a_channel_without_its_reference_and_an_unknown_type_are_refused(pages, world):
    client = pages("intake")
    response = _post(client, _form(channel_ref=""))
    assert response.status_code == 422 and _error_of(response.text, "channel_ref") == "必填"
    response = _post(client, _form(type_code="私搭乱建"))
    assert "请从候选中选择" in _error_of(response.text, "type_code")
    assert _cases(world) == 0


def test_a_valid_report_creates_one_case_and_shows_it_with_its_likely_duplicates(pages, api, world):
    earlier = report(api, sign_in(api, "intake"), ref="GD-OLD")
    response = _post(pages("intake"), _form(), photos=[("scene.png", png())])
    assert response.status_code == 200
    assert _cases(world) == 2
    with world.read() as db:
        case = db.scalar(select(Case).where(Case.channel_ref == "GD-WEB-1"))
    assert response.url.path == "/intake" and response.url.params["case"] == str(case.id)
    html = response.text
    assert case.number in html and case.tracking_code in html
    duplicates = html[html.index("可能重复的案件"):]
    assert f"合并到 {earlier['number']}" in duplicates
    assert f'/cases/{case.id}/act/file?return_to=' in html and f'/cases/{case.id}/act/reject' in html


def test_the_same_channel_reference_twice_returns_the_same_case(pages, world):
    client = pages("intake")
    first = _post(client, _form())
    second = _post(client, _form(description="同一工单再次提交"))
    assert first.url.params["case"] == second.url.params["case"]
    assert second.url.params["again"] == "1" and "此工单号已登记过" in second.text
    assert _cases(world) == 1


def test_one_click_merges_the_new_case_into_its_duplicate(pages, api, world):
    earlier = report(api, sign_in(api, "intake"), ref="GD-OLD")
    client = pages("intake")
    case_id = int(_post(client, _form()).url.params["case"])
    response = client.post(f"/intake/{case_id}/merge", {"into_case_id": earlier["id"], "version": 1})
    assert response.status_code == 200 and "已合并到案件" in response.text
    with world.read() as db:
        merged, kept = db.get(Case, case_id), db.get(Case, earlier["id"])
        assert merged.status == "merged" and merged.merged_into_id == kept.id
        assert len(kept.reporters) == 2
    # a stale page cannot merge twice: the refusal is shown, nothing changes
    again = client.post(f"/intake/{case_id}/merge", {"into_case_id": earlier["id"], "version": 1})
    assert again.status_code == 409 and 'class="alert alert-error"' in again.text


def test_type_ahead_lists_matching_types_in_force(pages):
    client = pages("intake")
    html = client.get("/intake/types", params={"type_code": "私搭"}).text
    assert f'data-code="{ILLEGAL_STRUCTURE}"' in html and "<html" not in html
    assert "没有与“zzzz”匹配" in client.get("/intake/types", params={"type_code": "zzzz"}).text


def test_placing_a_point_names_its_street_and_grid_and_the_open_cases_nearby(pages, api):
    client = pages("intake")
    inside = client.get("/intake/place", params={"lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1]}).text
    assert "东华门街道" in inside and "单元网格 <span" in inside and "附近已有" not in inside
    earlier = report(api, sign_in(api, "intake"), ref="GD-NEAR")
    inside = client.get("/intake/place", params={"lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1]}).text
    assert "附近已有 1 件未办结案件" in inside and earlier["number"] in inside
    outside = client.get("/intake/place", params={"lng": OUTSIDE_DONGCHENG[0],
                                                  "lat": OUTSIDE_DONGCHENG[1]}).text
    assert "不在管辖范围内" in outside and 'id="place-error"' in outside


def test_the_operators_reports_waiting_to_be_filed_are_listed_until_filed(pages, api):
    client = pages("intake")
    case_id = _post(client, _form()).url.params["case"]
    others = report(api, sign_in(api, "intake"), ref="GD-API")  # taken through the API, same account
    waiting = client.get("/intake").text.split("我登记的待受理案件")[1]
    assert f"/intake?case={case_id}" in waiting and f"/intake?case={others['id']}" in waiting
    move(api, sign_in(api, "intake"), others, "file", type_code=ILLEGAL_STRUCTURE)
    waiting = client.get("/intake").text.split("我登记的待受理案件")[1]
    assert f"/intake?case={others['id']}" not in waiting


def test_the_dispatcher_sees_intake_without_the_form_and_a_department_is_refused(pages):
    assert "当前角色不能登记新报件" in pages("dispatcher").get("/intake").text
    assert pages("department").get("/intake").status_code == 403
