"""The public pages (随手拍, tracking, rating), with no sign-in, on both backends."""

import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gridgov.app import create_app
from gridgov.cases.attachments import MAX_PHOTO_BYTES
from gridgov.cases.models import Attachment, Case, CaseEvent
from gridgov.config import Settings
from gridgov.db import Database
from gridgov.grid.crs import CRS, from_gcj02
from gridgov.web.models import PublicRateWindow
from tests.cases.flow import DONGHUAMEN, move, png, sign_in

DONE = re.compile(r"^/report/done/([0-9A-Z]{10})$")


def report_form(**fields: str) -> dict[str, str]:
    return {"description": "胡同口堆了很多建筑垃圾，影响通行", "address": "东华门大街 12 号门口",
            "lng": str(DONGHUAMEN[0]), "lat": str(DONGHUAMEN[1]), "crs": "gcj02",
            "reporter_name": "", "reporter_phone": "", **fields}


def photo(content: bytes | None = None, name: str = "photo.png") -> list:
    return [("photos", (name, io.BytesIO(png() if content is None else content), "image/png"))]


def send(client: TestClient, data: dict, files: list | None = None):
    return client.post("/report", data=data, files=photo() if files is None else files,
                       follow_redirects=False)


def tracking_code(response) -> str:
    assert response.status_code == 303, response.text
    match = DONE.match(response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def count(database: Database, model) -> int:
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(model))


def case_of(database: Database, code: str) -> Case:
    with database.read() as db:
        return db.scalar(select(Case).where(Case.tracking_code == code))


def field_error(html: str, name: str) -> str:
    """The error text shown right under the field `name` (its id is `<name>-error`)."""
    match = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    assert match, f"no error shown next to {name}"
    return match.group(1)


def test_a_member_of_the_public_reports_with_a_photo_and_gets_a_tracking_code(anonymous, world):
    page = anonymous.get("/report")
    assert page.status_code == 200 and 'name="photos"' in page.text and "使用当前位置" in page.text
    response = send(anonymous, report_form(reporter_name="王小明", reporter_phone="139 1234 5678"))
    code = tracking_code(response)
    done = anonymous.get(response.headers["location"])
    assert done.status_code == 200 and code in done.text and f'href="/track/{code}"' in done.text
    case = case_of(world, code)
    assert case.channel_code == "snapshot" and case.status == "reported"
    assert [(r.name, r.phone, r.user_id) for r in case.reporters] == [("王小明", "13912345678", None)]
    with world.read() as db:
        assert db.scalar(select(CaseEvent.actor_name).where(CaseEvent.case_id == case.id)) == "anonymous"
        assert db.scalar(select(func.count()).where(Attachment.case_id == case.id)) == 1


def test_the_phones_own_location_is_taken_in_wgs84(anonymous, world):
    lng, lat = from_gcj02(*DONGHUAMEN, CRS.WGS84)
    code = tracking_code(send(anonymous, report_form(lng=f"{lng:.6f}", lat=f"{lat:.6f}", crs="wgs84")))
    case = case_of(world, code)
    assert abs(case.lng - DONGHUAMEN[0]) < 1e-5 and abs(case.lat - DONGHUAMEN[1]) < 1e-5


def test_sending_the_same_form_twice_files_one_case(anonymous, world):
    data = report_form(submission="0123456789abcdef0123456789abcdef")
    first, second = tracking_code(send(anonymous, data)), tracking_code(send(anonymous, data))
    assert first == second and count(world, Case) == 1
    assert tracking_code(send(anonymous, data | {"description": "另一处：井盖破损，有人差点摔倒"})) != first


@pytest.mark.parametrize(("data", "files", "field", "message"), [
    (report_form(), photo(b"just some text, not a picture", "photo.png"), "photos", "图片"),
    (report_form(), photo(png() + bytes(MAX_PHOTO_BYTES)), "photos", "超过 10 MB"),
    (report_form(), [], "photos", "至少 1 张"),
    (report_form(description=""), None, "description", "描述"),
    (report_form(reporter_phone="12345"), None, "reporter_phone", "手机号"),
    (report_form(lng="116.2000", lat="39.9000"), None, "place", "不在东城区"),
    (report_form(lng="", lat=""), None, "place", "当前位置"),
], ids=["not-an-image", "oversize", "no-photo", "no-description", "bad-phone", "outside", "no-place"])
def test_a_bad_report_shows_the_problem_next_to_its_field_and_writes_nothing(
        anonymous, world, data, files, field, message):
    before = count(world, Case)
    response = send(anonymous, data, files)
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert count(world, Case) == before == 0
    assert count(world, PublicRateWindow) == 0  # refused forms do not count against the limit


def test_an_address_over_the_hourly_limit_gets_429_and_others_do_not(world, world_settings: Settings, frozen):
    limited = world_settings.model_copy(update={"public_reports_per_hour": 2})
    app = create_app(limited, world)
    with TestClient(app, client=("203.0.113.7", 5000)) as first, \
            TestClient(app, client=("198.51.100.9", 5000)) as second:
        for _ in range(2):
            tracking_code(send(first, report_form()))
        refused = send(first, report_form())
        assert refused.status_code == 429 and "每小时最多可提交 2 次随手拍上报" in refused.text
        assert int(refused.headers["Retry-After"]) == 3600  # the clock stands at 10:00 sharp
        assert count(world, Case) == 2
        tracking_code(send(second, report_form()))
        frozen.advance(hours=1)
        tracking_code(send(first, report_form()))
    assert count(world, Case) == 4
    with world.read() as db:  # only hashes of the addresses are kept, and only this hour's
        keys = db.scalars(select(PublicRateWindow.client_key)).all()
    assert len(keys) == 1 and "203.0.113.7" not in keys[0]


def test_the_tracking_page_shows_progress_but_no_reporter(anonymous, world):
    code = tracking_code(send(anonymous, report_form(reporter_name="王小明", reporter_phone="13912345678")))
    page = anonymous.get(f"/track/{code.lower()}")
    assert page.status_code == 200
    assert code in page.text and "胡同口堆了很多建筑垃圾" in page.text and "上报" in page.text
    assert "王小明" not in page.text and "13912345678" not in page.text and "5678" not in page.text
    assert anonymous.get(f"/track?code={code}", follow_redirects=False).headers["location"] == f"/track/{code}"


def test_an_unknown_tracking_code_gets_a_friendly_404(anonymous):
    page = anonymous.get("/track/NOSUCHCODE")
    assert page.status_code == 404 and "没有找到这个查询码" in field_error(page.text, "code")


def test_the_reporter_sees_the_reply_and_rates_once_after_closure(api, anonymous, world):
    code = tracking_code(send(anonymous, report_form(reporter_phone="13912345678")))
    url = f"/track/{code}/rating"
    assert "办结后，可以在这里评价" in anonymous.get(f"/track/{code}").text
    assert anonymous.post(url, data={"rating": "satisfied"}).status_code == 409  # not closed yet
    dispatcher = sign_in(api, "dispatcher")
    case = api.get(f"/api/v1/cases/{case_of(world, code).id}", headers=dispatcher).json()
    move(api, dispatcher, case, "force_close", reason="现场已清理")
    reporter = api.get(f"/api/v1/feedback/cases/{case['id']}", headers=dispatcher).json()["reporters"][0]
    assert api.post(f"/api/v1/feedback/cases/{case['id']}/replies", headers=dispatcher, json={
        "reporter_id": reporter["reporter_id"], "text": "建筑垃圾已清运完毕，感谢您的监督", "way": "phone"},
    ).status_code == 201

    page = anonymous.get(f"/track/{code}")
    assert "建筑垃圾已清运完毕" in page.text and "提交评价" in page.text
    assert "dispatcher" not in page.text
    off_scale = anonymous.post(url, data={"rating": "great"})
    assert off_scale.status_code == 422 and "请选择" in field_error(off_scale.text, "rating")
    rated = anonymous.post(url, data={"rating": "basic", "comment": "清理得挺快"}, follow_redirects=False)
    assert rated.status_code == 303
    after = anonymous.get(rated.headers["location"])
    assert "感谢您的评价" in after.text and "基本满意" in after.text and "提交评价" not in after.text
    again = anonymous.post(url, data={"rating": "unsatisfied"})
    assert again.status_code == 409 and "已评价过" in again.text


def test_ratings_are_limited_per_address_too(world, world_settings: Settings, frozen):
    limited = world_settings.model_copy(update={"public_reports_per_hour": 1})
    with TestClient(create_app(limited, world)) as client:
        code = tracking_code(send(client, report_form()))
        assert client.post(f"/track/{code}/rating", data={"rating": "satisfied"}).status_code == 409
        refused = client.post(f"/track/{code}/rating", data={"rating": "satisfied"})
        assert refused.status_code == 429 and "评价" in refused.text and "Retry-After" in refused.headers


def test_a_signed_in_citizen_reports_as_itself_and_lists_its_reports(pages, world):
    citizen = pages("citizen")
    assert citizen.get("/", follow_redirects=False).headers["location"] == "/report"
    code = tracking_code(citizen.post("/report", data=report_form(), files=photo(), follow_redirects=False))
    case = case_of(world, code)
    assert case.reporters[0].user_id is not None
    with world.read() as db:
        assert db.scalar(select(CaseEvent.actor_name).where(CaseEvent.case_id == case.id)) == "citizen"
    home = citizen.get("/report")
    assert "我的上报" in home.text and f'href="/track/{code}"' in home.text


def test_the_public_map_gets_street_outlines_and_places_without_sign_in(anonymous):
    streets = anonymous.get("/api/v1/public/grids/streets")
    assert streets.status_code == 200 and streets.headers["content-type"] == "application/geo+json"
    features = streets.json()["features"]
    assert len(features) == 17 and all(set(f["properties"]) == {"code", "name"} for f in features)
    assert "public" in streets.headers["cache-control"]
    again = anonymous.get("/api/v1/public/grids/streets", headers={"If-None-Match": streets.headers["etag"]})
    assert again.status_code == 304
    inside = anonymous.get("/api/v1/public/grids/place", params={"lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1]})
    assert inside.json()["inside"] is True and inside.json()["street_name"] == "东华门街道"
    outside = anonymous.get("/api/v1/public/grids/place", params={"lng": 116.2, "lat": 39.9}).json()
    assert outside["inside"] is False and outside["street_name"] is None
