"""Intake: every channel, idempotent, located, photos checked by content, tracked by the public."""

from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gridgov.app import create_app
from gridgov.cases.models import Case
from gridgov.grid import service as grid_service
from tests.cases.flow import DONGHUAMEN, move, png, report, sign_in, upload


def test_the_same_channel_reference_returns_the_same_case(api):
    intake = sign_in(api, "intake")
    first = api.post("/api/v1/cases", headers=intake, json={
        "channel": "hotline_12345", "channel_ref": "GD-100", "description": "路灯不亮",
        "lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1]})
    again = api.post("/api/v1/cases", headers=intake, json={
        "channel": "hotline_12345", "channel_ref": "GD-100", "description": "路灯不亮",
        "lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1]})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case"]["id"] == again.json()["case"]["id"] and not again.json()["created"]


def test_parallel_retries_of_one_report_make_one_case(world, world_settings, frozen):
    app = create_app(world_settings, world)
    with TestClient(app) as api:
        intake = sign_in(api, "intake")
        body = {"channel": "weibo", "channel_ref": "WB-777", "description": "井盖缺失",
                "lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1]}

        def post(_):
            with TestClient(app) as client:
                return client.post("/api/v1/cases", headers=intake, json=body)

        with ThreadPoolExecutor(max_workers=6) as pool:
            responses = list(pool.map(post, range(12)))
    assert sorted({r.status_code for r in responses}) in ([200, 201], [201])
    assert sum(r.json()["created"] for r in responses) == 1
    assert len({r.json()["case"]["id"] for r in responses}) == 1
    with world.read() as db:
        assert db.scalar(select(func.count()).select_from(Case).where(Case.channel_ref == "WB-777")) == 1


def test_numbers_are_year_and_sequence_and_tracking_codes_unique(api):
    intake = sign_in(api, "intake")
    a, b = report(api, intake, ref="N-1"), report(api, intake, ref="N-2")
    assert a["number"] == "20260000001" and b["number"] == "20260000002"
    assert a["tracking_code"] != b["tracking_code"] and len(a["tracking_code"]) == 10


def test_a_point_outside_the_district_is_refused_clearly(api):
    response = api.post("/api/v1/cases", headers=sign_in(api, "intake"), json={
        "channel": "hotline_12345", "channel_ref": "X-1", "description": "西城的问题",
        "lng": 116.36, "lat": 39.91})
    assert response.status_code == 422
    assert response.json()["type"] == "urn:gridgov:problem:outside-managed-area"
    assert "管辖范围" in response.json()["detail"]


def test_a_report_may_be_placed_by_grid_code_or_in_wgs84(api):
    intake = sign_in(api, "intake")
    by_point = report(api, intake, ref="G-1")
    by_code = report(api, intake, ref="G-2", point=(None, None), grid_code=by_point["unit_grid_code"])
    assert by_code["unit_grid_code"] == by_point["unit_grid_code"]
    wgs = report(api, intake, ref="G-3", point=(116.3973, 39.9121), crs="wgs84")
    assert wgs["street_code"] == "110101001"


def test_unknown_channel_and_missing_reference_are_refused(api):
    intake = sign_in(api, "intake")
    for body, field in (({"channel": "carrier_pigeon", "channel_ref": "1"}, "channel"),
                        ({"channel": "hotline_12345"}, "channel_ref")):
        response = api.post("/api/v1/cases", headers=intake, json={
            "description": "问题", "lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1], **body})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_a_photo_that_is_not_an_image_is_refused(api):
    intake = sign_in(api, "intake")
    case = report(api, intake, ref="P-1")
    response = api.post(f"/api/v1/cases/{case['id']}/attachments", headers=intake, data={"kind": "before"},
                        files={"file": ("photo.jpg", b"MZ\x90\x00 not an image", "image/jpeg")})
    assert response.status_code == 422 and "图片" in response.json()["detail"]


def test_photos_are_served_only_to_those_who_may_see_the_case(api):
    intake, department = sign_in(api, "intake"), sign_in(api, "department")
    case = report(api, intake, ref="P-2")
    photo = upload(api, intake, case, "report")
    url = f"/api/v1/cases/{case['id']}/attachments/{photo}"
    assert api.get(url, headers=intake).content == png()
    assert api.get(url, headers=department).status_code == 404


def test_personal_data_is_masked_for_roles_that_do_not_need_it(api):
    intake, leader = sign_in(api, "intake"), sign_in(api, "leader")
    case = report(api, intake, ref="M-1")
    assert api.get(f"/api/v1/cases/{case['id']}", headers=intake).json()["reporters"][0]["phone"] == "13812345678"
    masked = api.get(f"/api/v1/cases/{case['id']}", headers=leader).json()["reporters"][0]
    assert (masked["name"], masked["phone"]) == ("张**", "138****5678")


def test_the_public_follows_its_report_by_tracking_code_without_personal_data(api):
    citizen = sign_in(api, "citizen")
    case = api.post("/api/v1/cases", headers=citizen, json={
        "channel": "snapshot", "channel_ref": "S-1", "description": "路面坑洼", "lng": DONGHUAMEN[0],
        "lat": DONGHUAMEN[1], "reporter_name": "周女士", "reporter_phone": "13700000000"}).json()["case"]
    tracked = api.get(f"/api/v1/public/cases/{case['tracking_code']}")
    assert tracked.status_code == 200
    body = tracked.text
    assert "周女士" not in body and "13700000000" not in body and tracked.json()["status_label"] == "待受理"
    assert api.get("/api/v1/public/cases/NOSUCHCODE").status_code == 404
    mine = api.get("/api/v1/cases", headers=citizen).json()
    assert [c["id"] for c in mine["items"]] == [case["id"]]


def test_a_stale_version_loses_with_409_and_changes_nothing(api):
    intake = sign_in(api, "intake")
    case = report(api, intake, ref="V-1")
    moved = move(api, intake, case, "file", type_code="E010101")
    stale = api.post(f"/api/v1/cases/{case['id']}/transitions/reject", headers=intake,
                     json={"version": case["version"], "reason": "重复"})
    assert stale.status_code == 409 and stale.json()["type"] == "urn:gridgov:problem:stale-version"
    assert api.get(f"/api/v1/cases/{case['id']}", headers=intake).json()["version"] == moved["version"]


def test_two_dispatchers_racing_get_one_winner_and_one_409(world, world_settings, frozen):
    app = create_app(world_settings, world)
    with TestClient(app) as api:
        intake, dispatcher = sign_in(api, "intake"), sign_in(api, "dispatcher")
        case = move(api, intake, report(api, intake, ref="R-1"), "file", type_code="E010101")

        def dispatch(reason):
            with TestClient(app) as client:
                return client.post(f"/api/v1/cases/{case['id']}/transitions/dispatch", headers=dispatcher,
                                   json={"version": case["version"], "unit_code": "D002-01", "reason": reason})

        with ThreadPoolExecutor(max_workers=2) as pool:
            codes = sorted(r.status_code for r in pool.map(dispatch, ["甲", "乙"]))
    assert codes == [200, 409]


def test_queues_search_and_overdue(api, frozen):
    intake, dispatcher, fieldunit = sign_in(api, "intake"), sign_in(api, "dispatcher"), sign_in(api, "fieldunit")
    case = move(api, intake, report(api, intake, ref="Q-1"), "file", type_code="E010101")
    case = move(api, dispatcher, case, "dispatch", unit_code="D002-01")
    inbox = api.get("/api/v1/cases/inbox", headers=fieldunit).json()
    assert [c["id"] for c in inbox["new"]] == [case["id"]] and inbox["overdue"] == []
    frozen.advance(days=2)
    inbox = api.get("/api/v1/cases/inbox", headers=fieldunit).json()
    assert [c["id"] for c in inbox["overdue"]] == [case["id"]]
    overdue = api.get("/api/v1/cases/overdue", headers=dispatcher).json()
    assert {(row["unit_code"], row["node"]) for row in overdue} == {("D002-01", "receipt"), ("D002-01", "handling")}
    found = api.get("/api/v1/cases", headers=dispatcher, params={"overdue": True, "street": "110101001"}).json()
    assert found["total"] == 1 and found["items"][0]["id"] == case["id"]
    assert api.get("/api/v1/cases", headers=dispatcher, params={"text": "私搭乱建"}).json()["total"] == 1


def test_a_server_builds_its_grid_index_when_it_starts_not_on_the_first_report(world, world_settings, frozen,
                                                                               monkeypatch):
    builds = []
    load = grid_service._load_snapshot
    monkeypatch.setattr(grid_service, "_snapshots", OrderedDict())  # as in a new process
    monkeypatch.setattr(grid_service, "_load_snapshot", lambda db: builds.append(db) or load(db))
    with TestClient(create_app(world_settings, world)) as api:
        assert len(builds) == 1
        case = report(api, sign_in(api, "intake"), ref="PRELOAD-1")
    assert case["unit_grid_code"] and len(builds) == 1
