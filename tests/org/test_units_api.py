from io import BytesIO

from openpyxl import Workbook, load_workbook

from gridgov.auth.policy import Role
from tests.helpers import add_user, bearer, small_org

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _admin(client, database, settings) -> dict:
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    return bearer(client, "admin1")


def _sheet(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["编码", "名称", "简称", "类型", "上级编码", "服务街道编码", "生效日期", "失效日期"])
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(client, headers, content: bytes):
    return client.post("/api/v1/units/import", headers=headers,
                       files={"file": ("units.xlsx", content, XLSX)})


def test_admin_creates_a_unit_under_a_parent_of_the_right_kind(client, database, settings):
    admin = _admin(client, database, settings)
    response = client.post("/api/v1/units", headers=admin, json={
        "code": "S1-C2", "name": "新建社区", "kind": "community", "parent_code": "S1",
        "valid_from": "2026-01-01"})
    assert response.status_code == 201
    assert response.json()["kind_label"] == "社区" and response.json()["parent_code"] == "S1"


def test_a_community_cannot_hang_under_a_department(client, database, settings):
    admin = _admin(client, database, settings)
    response = client.post("/api/v1/units", headers=admin, json={
        "code": "X1", "name": "错挂社区", "kind": "community", "parent_code": "D1",
        "valid_from": "2026-01-01"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "parent_code"


def test_units_are_listed_by_kind_and_validity(client, database, settings):
    admin = _admin(client, database, settings)
    client.patch("/api/v1/units/S2-C1", headers=admin, json={"valid_to": "2025-12-31"})
    active = client.get("/api/v1/units", headers=admin,
                        params={"kind": "community", "active_on": "2026-06-01"}).json()
    assert [u["code"] for u in active] == ["S1-C1"]


def test_validity_cannot_end_before_it_starts(client, database, settings):
    admin = _admin(client, database, settings)
    response = client.patch("/api/v1/units/S1", headers=admin, json={"valid_to": "2019-01-01"})
    assert response.status_code == 422


def test_excel_export_then_import_round_trips(client, database, settings):
    admin = _admin(client, database, settings)
    exported = client.get("/api/v1/units/export.xlsx", headers=admin)
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    sheet = load_workbook(BytesIO(exported.content)).active
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == ["编码", "名称", "简称", "类型", "上级编码", "服务街道编码", "生效日期",
                                           "失效日期"]
    before = client.get("/api/v1/units", headers=admin).json()
    report = _upload(client, admin, exported.content)
    assert report.status_code == 200 and report.json() == {"created": 0, "updated": len(before)}
    assert client.get("/api/v1/units", headers=admin).json() == before


def test_excel_import_adds_new_units_in_parent_order(client, database, settings):
    admin = _admin(client, database, settings)
    content = _sheet([["S3-C1", "新社区", None, "社区", "S3", None, "2026-01-01", None],
                      ["S3", "新街道", None, "街道", "DC", None, "2026-01-01", None]])
    assert _upload(client, admin, content).json() == {"created": 2, "updated": 0}
    assert client.get("/api/v1/units/S3-C1", headers=admin).json()["parent_code"] == "S3"


def test_malformed_excel_is_refused_whole_with_every_bad_row_listed(client, database, settings):
    admin = _admin(client, database, settings)
    content = _sheet([
        ["OK1", "好的街道", None, "街道", "DC", None, "2026-01-01", None],
        ["BAD1", "坏类型", None, "乡镇", "DC", None, "2026-01-01", None],
        ["BAD2", "坏日期", None, "街道", "DC", None, "2026/13/40", None],
        ["BAD3", "无上级", None, "社区", "NOPE", None, "2026-01-01", None],
        ["BAD4", "", None, "街道", "DC", None, "2026-01-01", None],
    ])
    response = _upload(client, admin, content)
    assert response.status_code == 422
    assert sorted({e["row"] for e in response.json()["errors"]}) == [3, 4, 5, 6]
    assert client.get("/api/v1/units/OK1", headers=admin).status_code == 404


def test_a_file_that_is_not_excel_is_refused(client, database, settings):
    admin = _admin(client, database, settings)
    response = _upload(client, admin, b"%PDF-1.4 not a workbook")
    assert response.status_code == 422 and "Excel" in response.json()["detail"]


def test_the_public_cannot_read_the_organisation(client, database, settings):
    small_org(database)
    add_user(database, settings, "citizen1", Role.PUBLIC, "PUB")
    assert client.get("/api/v1/units", headers=bearer(client, "citizen1")).status_code == 403


def test_a_field_unit_records_the_street_it_serves(client, database, settings):
    admin = _admin(client, database, settings)
    body = {"code": "D1-F2", "name": "S2城管执法队", "kind": "field_unit", "parent_code": "D1",
            "serves_street_code": "S2", "valid_from": "2026-01-01"}
    assert client.post("/api/v1/units", headers=admin, json=body).json()["serves_street_code"] == "S2"
    wrong = client.post("/api/v1/units", headers=admin, json=body | {"code": "D1-F3", "serves_street_code": "D1"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "serves_street_code"
