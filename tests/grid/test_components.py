"""Components: all-or-nothing imports from GeoJSON and Excel, located in their unit grid;
nearest; relocation when the unit grids change; the API."""

import json
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from gridgov.audit.models import AuditEvent
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth.policy import Role
from gridgov.errors import InvalidInput
from gridgov.grid import components, service
from gridgov.grid.components import ComponentRow, ComponentStatus
from gridgov.grid.crs import CRS, from_gcj02
from gridgov.grid.models import Component
from gridgov.grid.rules import GridLevel
from tests.grid import small_grid
from tests.grid.small_grid import load_small_grid, rect
from tests.helpers import add_user, bearer, small_org

# Four water covers (0101) and a lamp (0118) in the small grid, GCJ-02.
POINTS = [
    ("1101010101000001", "上水井盖1", "D1", "完好", 116.401, 39.909),  # unit 110101001001001
    ("1101010101000002", "上水井盖2", "D1", "损坏", 116.402, 39.901),  # 110101001001002
    ("1101010101000003", "上水井盖3", None, "丢失", 116.411, 39.909),  # 110101002001001
    ("1101010101000004", "上水井盖4", "D1", "intact", 116.419, 39.901),  # 110101002001004
    ("1101010118000001", "路灯1", "DC", "完好", 116.4015, 39.9085),
]


def _collection(points=POINTS, crs: CRS | None = CRS.GCJ02) -> dict:
    features = []
    for code, name, owner, status, lng, lat in points:
        if crs is not None and crs is not CRS.GCJ02:
            lng, lat = from_gcj02(lng, lat, crs)
        features.append({"type": "Feature", "id": code,
                         "properties": {"code": code, "name": name, "owner_code": owner,
                                        "status": status},
                         "geometry": {"type": "Point", "coordinates": [lng, lat]}})
    fc = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        fc["coordinate_system"] = crs.value
    return fc


def _import_fc(database, fc, crs=None):
    rows, problems, declared = components.parse_geojson(fc)
    with database.write() as db:
        return components.import_components(db, actor=SYSTEM_ACTOR, rows=rows,
                                            crs=crs or declared, parse_problems=problems)


@pytest.fixture
def world(database):
    small_org(database)
    load_small_grid(database)
    return database


def test_components_import_from_geojson_each_located_in_its_unit_grid(world):
    result = _import_fc(world, _collection(crs=CRS.WGS84))
    assert (result.created, result.updated, result.unchanged) == (5, 0, 0)
    with world.read() as db:
        stored = {c.code: c for c in db.scalars(select(Component))}
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "component.import"))
    assert event.after["created"] == 5
    assert stored["1101010101000001"].unit_grid_code == "110101001001001"
    assert stored["1101010101000004"].basic_code == "11010100200102"
    assert stored["1101010101000003"].owner_unit_id is None
    assert stored["1101010101000002"].status == ComponentStatus.DAMAGED
    assert stored["1101010101000004"].status == ComponentStatus.INTACT
    assert (stored["1101010101000004"].lng, stored["1101010101000004"].lat) == pytest.approx(
        (116.419, 39.901), abs=2e-7)  # converted back from WGS-84 to GCJ-02
    assert stored["1101010101000004"].grid_version == 4


def test_a_reimport_updates_what_changed_and_keeps_the_rest(world):
    _import_fc(world, _collection())
    changed = list(POINTS)
    changed[1] = ("1101010101000002", "上水井盖2", "D1", "完好", 116.411, 39.901)
    result = _import_fc(world, _collection(changed[:3]))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    with world.read() as db:
        moved = components.get_component(db, code="1101010101000002")
        assert moved.unit_grid_code == "110101002001002" and moved.status == "intact"
        assert db.scalar(select(func.count()).select_from(Component)) == 5


def test_a_bad_import_is_refused_whole_listing_every_bad_row(world):
    bad = [
        ("1101010101000001", "好的", "D1", "完好", 116.401, 39.909),
        ("1101020101000001", "别的区县", "D1", "完好", 116.401, 39.909),
        ("1101019901000001", "没有的小类", "D1", "完好", 116.401, 39.909),
        ("1101010101000000", "顺序号为零", "D1", "完好", 116.401, 39.909),
        ("1101010101000001", "重复", "D1", "完好", 116.401, 39.909),
        ("1101010101000005", None, "NOPE", "坏了", 116.401, 39.909),
        ("1101010101000006", "范围外", "D1", "完好", 116.43, 39.909),
        ("1101010101000007", "颠倒", "D1", "完好", 39.909, 116.401),
    ]
    with pytest.raises(InvalidInput) as refused:
        _import_fc(world, _collection(bad))
    problems = {(e["row"], e["field"]) for e in refused.value.errors}
    assert problems == {(2, "code"), (3, "code"), (4, "code"), (5, "code"), (6, "name"),
                        (6, "owner_code"), (6, "status"), (7, "coordinates"), (8, "coordinates")}
    messages = " ".join(e["message"] for e in refused.value.errors)
    assert "不是本区县代码" in messages and "不在任何单元网格内" in messages
    assert "与第 1 行重复" in messages and "经纬度是否颠倒" in messages
    with world.read() as db:
        assert db.scalar(select(func.count()).select_from(Component)) == 0


def test_an_import_needs_a_coordinate_system(world):
    with pytest.raises(InvalidInput) as refused:
        _import_fc(world, _collection(crs=None))
    assert {e["field"] for e in refused.value.errors} == {"crs"}
    assert _import_fc(world, _collection(crs=None), crs=CRS.GCJ02).created == 5


def test_excel_export_imports_back_unchanged(world):
    _import_fc(world, _collection())
    with world.read() as db:
        workbook = components.export_excel(components.all_components(db), crs=CRS.BD09)
    sheet = load_workbook(BytesIO(workbook)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["编码", "名称", "大类", "小类"]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert (first["小类"], first["状态"], first["坐标系"], first["单元网格"]) == (
        "上水井盖", "完好", "bd09", "110101001001001")
    rows, problems = components.parse_excel(workbook)
    assert not problems and len(rows) == 5
    with world.write() as db:
        result = components.import_components(db, actor=SYSTEM_ACTOR, rows=rows)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 5)


def test_excel_rows_are_checked_like_any_other(world):
    rows = [ComponentRow(2, "1101010101000001", "井盖", "D1", "完好", 116.401, 39.909),
            ComponentRow(3, "1101010101000002", "井盖", "D1", "完好", None, 39.909)]
    with world.write() as db, pytest.raises(InvalidInput) as refused:
        components.import_components(db, actor=SYSTEM_ACTOR, rows=rows, crs=CRS.GCJ02)
    assert [(e["row"], e["field"]) for e in refused.value.errors] == [(3, "coordinates")]


def test_nearest_orders_by_distance_within_a_class(world):
    _import_fc(world, _collection())
    with world.read() as db:
        found = components.nearest(db, lng=116.4014, lat=39.9086, limit=3)
        covers = components.nearest(db, lng=116.4014, lat=39.9086, major_minor="0101", limit=10)
        lamps = components.nearest(db, lng=116.4014, lat=39.9086, major_minor="0118")
        none = components.nearest(db, lng=116.4014, lat=39.9086, major_minor="0402")
        major = components.nearest(db, lng=116.4014, lat=39.9086, major_minor="01", limit=10)
        with pytest.raises(InvalidInput):
            components.nearest(db, lng=116.4, lat=39.9, major_minor="9999")
    assert [f.code for f in found] == ["1101010118000001", "1101010101000001",
                                       "1101010101000003"]
    assert found[0].distance_m < found[1].distance_m < found[2].distance_m
    assert len(covers) == 4 and all(f.minor_class == "0101" for f in covers)
    assert [f.code for f in lamps] == ["1101010118000001"] and none == []
    assert [f.code for f in major] == [f.code for f in found] + [
        "1101010101000002", "1101010101000004"]
    assert 50 < found[1].distance_m < 60  # 0.0004° of longitude and latitude: 34 m by 44 m


def test_components_follow_a_unit_grid_reimport(world):
    _import_fc(world, _collection())
    units = [f for f in small_grid.unit_features() if f["id"] != "110101001001002"]
    units[0]["geometry"]["coordinates"] = rect(116.400, 39.900, 116.405, 39.910)
    with world.write() as db:
        result = service.import_level(db, actor=SYSTEM_ACTOR, level=GridLevel.UNIT,
                                      collection=small_grid.collection(units))
    assert result.components_relocated == 1
    with world.read() as db:
        moved = components.get_component(db, code="1101010101000002")
        assert (moved.unit_grid_code, moved.grid_version) == ("110101001001001", 5)
        nearest = components.nearest(db, lng=116.402, lat=39.901, limit=1)
    assert nearest[0].unit_grid_code == "110101001001001"  # the cached register was refreshed


# --- API -----------------------------------------------------------------------------------


@pytest.fixture
def admin(client, world, settings):
    add_user(world, settings, "admin1", Role.ADMIN, "DC")
    return bearer(client, "admin1")


def _upload(client, headers, content: bytes, name: str, **params):
    return client.post("/api/v1/components/import", headers=headers, params=params,
                       files={"file": (name, content, "application/octet-stream")})


def test_the_api_imports_lists_filters_and_pages(client, admin):
    body = json.dumps(_collection()).encode()
    response = _upload(client, admin, body, "components.geojson")
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 5, "updated": 0, "unchanged": 0}
    page = client.get("/api/v1/components", headers=admin, params={"limit": 2}).json()
    assert page["total"] == 5 and [c["code"] for c in page["items"]] == [
        "1101010101000001", "1101010101000002"]
    assert page["items"][0]["class_name"] == "上水井盖" and page["items"][0]["owner_code"] == "D1"
    second = client.get("/api/v1/components", headers=admin,
                        params={"limit": 2, "offset": 2}).json()
    assert [c["code"] for c in second["items"]] == ["1101010101000003", "1101010101000004"]

    def codes(**params):
        response = client.get("/api/v1/components", headers=admin, params=params)
        assert response.status_code == 200, response.text
        return [c["code"] for c in response.json()["items"]]

    assert codes(grid_code="110101002") == ["1101010101000003", "1101010101000004"]
    assert codes(grid_code="110101001001001") == ["1101010101000001", "1101010118000001"]
    assert codes(grid_code="11010100100101") == ["1101010101000001", "1101010101000002",
                                                 "1101010118000001"]
    assert codes(class_code="0118") == ["1101010118000001"]
    assert len(codes(class_code="01")) == 5
    assert codes(owner_code="DC") == ["1101010118000001"]
    assert codes(status="damaged") == ["1101010101000002"]
    assert client.get("/api/v1/components", headers=admin,
                      params={"grid_code": "123"}).status_code == 422
    one = client.get("/api/v1/components/1101010101000003", headers=admin,
                     params={"crs": "wgs84"}).json()
    assert one["crs"] == "wgs84" and one["status_label"] == "丢失" and one["owner_code"] is None
    assert (one["lng"], one["lat"]) == pytest.approx(from_gcj02(116.411, 39.909, CRS.WGS84),
                                                     abs=2e-7)
    assert client.get("/api/v1/components/1101010101009999", headers=admin).status_code == 404


def test_the_api_nearest_and_exports(client, admin):
    assert _upload(client, admin, json.dumps(_collection()).encode(), "c.geojson").status_code \
        == 200
    nearest = client.get("/api/v1/components/nearest", headers=admin, params={
        "lng": 116.4014, "lat": 39.9086, "class_code": "0101", "limit": 2}).json()
    assert [n["code"] for n in nearest] == ["1101010101000001", "1101010101000003"]
    assert nearest[0]["distance_m"] < nearest[1]["distance_m"]
    geojson = client.get("/api/v1/components/export", headers=admin, params={"crs": "wgs84"})
    assert geojson.headers["content-type"] == "application/geo+json"
    exported = geojson.json()
    assert exported["coordinate_system"] == "wgs84" and len(exported["features"]) == 5
    again = _upload(client, admin, geojson.content, "c.geojson")
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 5}
    xlsx = client.get("/api/v1/components/export", headers=admin,
                      params={"format": "xlsx", "class_code": "0118"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert _upload(client, admin, xlsx.content, "c.xlsx").json()["unchanged"] == 1
    classes = client.get("/api/v1/components/classes", headers=admin).json()
    assert {"code": "0101", "name": "上水井盖", "major_code": "01",
            "major_name": "公用设施"} in classes


def test_the_api_refuses_bad_imports_whole_and_non_admins(client, admin, world, settings):
    bad = _collection([("1101010101000001", "上水井盖", "D1", "完好", 116.5, 39.9)])
    response = _upload(client, admin, json.dumps(bad).encode(), "c.geojson")
    assert response.status_code == 422
    assert response.json()["errors"][0]["row"] == 1
    conflicting = _upload(client, admin, json.dumps(_collection()).encode(), "c.geojson",
                          crs="bd09")
    assert conflicting.status_code == 422 and "矛盾" in conflicting.json()["detail"]
    add_user(world, settings, "supervisor1", Role.SUPERVISOR, "DC")
    supervisor = bearer(client, "supervisor1")
    forbidden = _upload(client, supervisor, json.dumps(_collection()).encode(), "c.geojson")
    assert forbidden.status_code == 403
    assert client.get("/api/v1/components", headers=supervisor).json()["total"] == 0
