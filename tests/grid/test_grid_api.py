"""The grid API: imports (admin only, all or nothing), cacheable GeoJSON layers, locating."""

import gzip
import json

import pytest
from sqlalchemy import func, select

from gridgov.auth.policy import Role
from gridgov.grid import service
from gridgov.grid.crs import CRS, from_gcj02
from gridgov.grid.models import GridCellRecord
from tests.grid import small_grid
from tests.grid.small_grid import load_small_grid, rect
from tests.helpers import add_user, bearer, small_org

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(client, database, settings):
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    return bearer(client, "admin1")


def _upload(client, headers, level: str, fc: dict, **params):
    body = json.dumps(fc, ensure_ascii=False).encode()
    return client.post(f"/api/v1/grids/{level}/import", headers=headers, params=params,
                       files={"file": (f"{level}.geojson", body, "application/geo+json")})


def test_an_admin_imports_the_four_levels_and_reads_the_stats(client, admin):
    for level, build in small_grid.LEVELS.items():
        response = _upload(client, admin, level.value, build())
        assert response.status_code == 200, response.text
    assert response.json()["version"] == 4 and response.json()["added"] == 8
    stats = client.get("/api/v1/grids/stats", headers=admin).json()
    assert [(s["level"], s["count"]) for s in stats["levels"]] == [
        ("street", 2), ("community", 2), ("basic", 4), ("unit", 8)]
    assert stats["grid_version"] == 4 and 1.8 < stats["total_area_km2"] < 2.0
    versions = client.get("/api/v1/grids/versions", headers=admin).json()
    assert [v["level"] for v in versions] == ["street", "community", "basic", "unit"]
    assert versions[0]["source_name"] == "street.geojson"


def test_a_raw_geojson_body_imports_too(client, admin):
    response = client.post("/api/v1/grids/street/import", headers={
        **admin, "Content-Type": "application/geo+json"},
        content=json.dumps(small_grid.streets()).encode())
    assert response.status_code == 200, response.text
    assert response.json()["cells"] == 2


def test_a_bad_file_is_refused_with_every_problem_listed_and_nothing_written(client, admin,
                                                                            database):
    load_small_grid(database)
    features = small_grid.unit_features()
    features[0]["properties"]["code"] = "110101001001"
    features[3]["geometry"]["coordinates"] = rect(116.404, 39.90, 116.41, 39.905)
    response = _upload(client, admin, "unit", small_grid.collection(features))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert "未写入任何数据" in body["detail"]
    assert (0, "code_malformed") in {(e["index"], e["kind"]) for e in body["errors"]}
    assert {(e["index"], e["other_index"]) for e in body["errors"] if e["kind"] == "overlap"} == {
        (1, 3)}
    assert all("message" in e and "feature_id" in e for e in body["errors"])
    with database.read() as db:
        assert service.current_version(db) == 4
        assert db.scalar(select(func.count()).select_from(GridCellRecord)) == 16


def test_a_file_that_is_not_json_is_refused(client, admin):
    response = client.post("/api/v1/grids/street/import", headers=admin,
                           files={"file": ("x.geojson", b"{not json", "application/json")})
    assert response.status_code == 422 and "JSON" in response.json()["detail"]


def test_an_upload_over_the_limit_is_refused_before_it_is_read(client, admin, monkeypatch):
    monkeypatch.setattr(service, "MAX_UPLOAD_BYTES", 1000)
    big = json.dumps(small_grid.streets()).encode() + b" " * 70_000
    multipart = client.post("/api/v1/grids/street/import", headers=admin,
                            files={"file": ("big.geojson", big, "application/geo+json")})
    raw = client.post("/api/v1/grids/street/import", content=big,
                      headers={**admin, "Content-Type": "application/geo+json"})
    for response in (multipart, raw):
        assert response.status_code == 413
        assert response.headers["content-type"].startswith(PROBLEM)


def test_only_administrators_import(client, database, settings):
    small_org(database)
    add_user(database, settings, "leader1", Role.LEADER, "DC")
    response = _upload(client, bearer(client, "leader1"), "street", small_grid.streets())
    assert response.status_code == 403
    with database.read() as db:
        assert service.current_version(db) == 0


def test_a_layer_is_geojson_with_an_etag_that_follows_the_grid_revision(client, admin, database):
    load_small_grid(database)
    url = "/api/v1/grids/unit"
    first = client.get(url, headers=admin)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/geo+json"
    assert "no-cache" in first.headers["cache-control"]
    layer = first.json()
    assert layer["coordinate_system"] == "gcj02" and layer["grid_version"] == 4
    assert len(layer["features"]) == 8
    feature = layer["features"][0]
    assert feature["id"] == feature["properties"]["code"] == "110101001001001"
    etag = first.headers["etag"]
    again = client.get(url, headers={**admin, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    client_side = client.get(url, headers={**admin, "If-None-Match": '"something-else"'})
    assert client_side.status_code == 200

    small_units = small_grid.unit_features()
    small_units[0]["properties"]["name"] = "改名的单元"
    assert _upload(client, admin, "unit", small_grid.collection(small_units)).status_code == 200
    after = client.get(url, headers={**admin, "If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert after.json()["features"][0]["properties"]["name"] == "改名的单元"


def test_a_layer_is_gzipped_for_clients_that_accept_it(client, admin, database):
    load_small_grid(database)
    response = client.get("/api/v1/grids/unit", headers={**admin, "Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["etag"].endswith('-gz"')
    assert len(response.json()["features"]) == 8  # the client decompressed it
    with client.stream("GET", "/api/v1/grids/unit",
                       headers={**admin, "Accept-Encoding": "gzip"}) as raw:
        compressed = b"".join(raw.iter_raw())
    assert json.loads(gzip.decompress(compressed))["level"] == "unit"


def test_a_layer_can_be_filtered_and_served_in_another_coordinate_system(client, admin,
                                                                          database):
    load_small_grid(database)
    street_2 = client.get("/api/v1/grids/unit", headers=admin,
                          params={"parent_code": "110101002"}).json()
    assert [f["id"][:9] for f in street_2["features"]] == ["110101002"] * 4
    wgs = client.get("/api/v1/grids/street", headers=admin,
                     params={"crs": "wgs84", "decimals": 7}).json()
    assert wgs["coordinate_system"] == "wgs84"
    x, y = wgs["features"][0]["geometry"]["coordinates"][0][0]
    assert (x, y) == pytest.approx(from_gcj02(116.40, 39.90, CRS.WGS84), abs=2e-7)
    six = client.get("/api/v1/grids/street", headers=admin).json()
    numbers = [v for ring in six["features"][0]["geometry"]["coordinates"] for p in ring
               for v in p]
    assert all(round(v, 6) == v for v in numbers)
    bad = client.get("/api/v1/grids/street", headers=admin, params={"parent_code": "1101"})
    assert bad.status_code == 422


def test_a_cell_is_readable_as_it_was_in_the_version_a_case_was_filed_in(client, admin,
                                                                         database):
    load_small_grid(database)
    units = [f for f in small_grid.unit_features() if f["id"] != "110101002001004"]
    units[-1]["geometry"]["coordinates"] = rect(116.415, 39.90, 116.42, 39.91)  # 003 takes 004
    assert _upload(client, admin, "unit", small_grid.collection(units)).status_code == 200
    current = client.get("/api/v1/grids/cells/110101002001004", headers=admin).json()
    assert current["active"] is False and current["version_to"] == 5
    then = client.get("/api/v1/grids/cells/110101002001003", headers=admin,
                      params={"version": 4}).json()
    now = client.get("/api/v1/grids/cells/110101002001003", headers=admin).json()
    assert then["version_to"] == 5 and now["version_from"] == 5
    assert now["area_m2"] == pytest.approx(2 * then["area_m2"], rel=1e-3)
    assert then["geometry"]["type"] == "Polygon" and then["level_label"] == "单元网格"
    missing = client.get("/api/v1/grids/cells/110101002001004", headers=admin,
                         params={"version": 5})
    assert missing.status_code == 404


def test_locate_one_position_including_for_the_public(client, database, settings):
    small_org(database)
    load_small_grid(database)
    add_user(database, settings, "citizen1", Role.PUBLIC, "PUB")
    citizen = bearer(client, "citizen1")
    bd_lng, bd_lat = from_gcj02(116.4025, 39.9075, CRS.BD09)
    found = client.get("/api/v1/grids/locate", headers=citizen,
                       params={"lng": bd_lng, "lat": bd_lat, "crs": "bd09"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["unit_code"] == "110101001001001" and body["street_code"] == "110101001"
    assert (body["lng"], body["lat"]) == pytest.approx((116.4025, 39.9075), abs=1e-6)
    assert body["grid_version"] == 4 and body["crs"] == "gcj02"
    assert client.get("/api/v1/grids/stats", headers=citizen).status_code == 403
    assert client.get("/api/v1/grids/locate",
                      params={"lng": 116.4025, "lat": 39.9075}).status_code == 401


def test_a_position_outside_is_a_problem_in_chinese(client, admin, database):
    load_small_grid(database)
    response = client.get("/api/v1/grids/locate", headers=admin,
                          params={"lng": 116.5, "lat": 39.95})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"].endswith("outside-managed-area")
    assert body["title"] == "位置不在管辖范围内" and "不在管辖范围内" in body["detail"]
    assert body["lng"] == 116.5


def test_locating_before_any_grid_is_a_conflict(client, admin):
    response = client.get("/api/v1/grids/locate", headers=admin,
                          params={"lng": 116.4, "lat": 39.9})
    assert response.status_code == 409 and "尚未导入" in response.json()["detail"]


def test_batch_locate_answers_every_point(client, admin, database):
    load_small_grid(database)
    points = [[116.401, 39.909], [116.5, 39.9], [116.419, 39.901]]
    response = client.post("/api/v1/grids/locate", headers=admin, json={"points": points})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["inside"], body["outside"], body["grid_version"]) == (2, 1, 4)
    assert [r["unit_code"] for r in body["results"]] == [
        "110101001001001", None, "110101002001004"]
    assert body["results"][1]["inside"] is False


def test_batch_locate_takes_at_most_ten_thousand_points(client, admin, database):
    load_small_grid(database)
    points = [[116.401, 39.909]] * 10_001
    response = client.post("/api/v1/grids/locate", headers=admin, json={"points": points})
    assert response.status_code == 422
    ok = client.post("/api/v1/grids/locate", headers=admin,
                     json={"points": points[:10_000], "crs": "gcj02"})
    assert ok.status_code == 200 and ok.json()["inside"] == 10_000
