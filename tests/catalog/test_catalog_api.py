"""The catalog API: reads for everyone signed in, writes for admins, problem+json errors."""

from datetime import UTC, datetime, timedelta

import pytest

from gridgov.auth.policy import Role
from tests.helpers import add_user, bearer

from .builders import export_bytes, mini_catalog

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BASE = "/api/v1/catalog"


@pytest.fixture
def users(client, database, settings):
    mini_catalog(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    add_user(database, settings, "disp1", Role.DISPATCHER, "DC")
    add_user(database, settings, "citizen1", Role.PUBLIC, "PUB")
    return {name: bearer(client, name) for name in ("admin1", "disp1", "citizen1")}


def _type_body(client, headers, code: str) -> dict:
    current = client.get(f"{BASE}/types/{code}", headers=headers).json()["current"]
    keys = ("name", "domain", "category", "major_class", "minor_class", "keywords",
            "filing_condition", "closing_condition", "urgency", "default_grade")
    body = {key: current[key] for key in keys}
    body["time_limit"] = {"value": current["time_limit"]["value"],
                          "unit": current["time_limit"]["unit"]}
    return body


def test_types_are_listed_filtered_and_paged(client, users):
    page = client.get(f"{BASE}/types", headers=users["citizen1"],
                      params={"domain": "urban_management", "limit": 2}).json()
    assert page["total"] == 3 and [t["code"] for t in page["items"]] == ["C010101", "C010102"]
    second = client.get(f"{BASE}/types", headers=users["disp1"],
                        params={"limit": 2, "offset": 2}).json()
    assert [t["code"] for t in second["items"]] == ["E010201"]
    events = client.get(f"{BASE}/types", headers=users["disp1"],
                        params={"category": "event", "text": "垃圾"}).json()
    assert [t["code"] for t in events["items"]] == ["E010201"]
    assert events["items"][0]["time_limit"]["text"] == "4 工作小时"


def test_type_ahead_search_finds_by_keyword(client, users):
    response = client.get(f"{BASE}/types/search", headers=users["disp1"],
                          params={"q": "自来水井盖"})
    assert response.status_code == 200
    assert "C010101" in [t["code"] for t in response.json()]


def test_admin_changes_a_type_into_a_new_version_and_history_keeps_the_old(client, users):
    admin = users["admin1"]
    before = datetime.now(UTC)
    body = _type_body(client, admin, "E010201")
    body["time_limit"] = {"value": "2", "unit": "working_hours"}
    body["change_note"] = "从严要求"
    response = client.put(f"{BASE}/types/E010201", headers=admin, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2 and response.json()["time_limit"]["text"] == "2 工作小时"
    detail = client.get(f"{BASE}/types/E010201", headers=admin).json()
    assert [v["version"] for v in detail["versions"]] == [2, 1] and not detail["retired"]
    old = client.get(f"{BASE}/types/E010201/at", headers=admin,
                     params={"at": before.isoformat()}).json()
    assert old["version"] == 1 and old["time_limit"]["value"] == "4"
    assert client.get(f"{BASE}/versions/{old['id']}", headers=admin).json()["valid_to"]


def test_admin_creates_and_retires_a_type(client, users):
    admin = users["admin1"]
    body = _type_body(client, admin, "C010102")
    body.update(code="C010103", name="上水井盖松动响动", keywords=["井盖响动"])
    created = client.post(f"{BASE}/types", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert client.post(f"{BASE}/types", headers=admin, json=body).status_code == 409
    retired = client.post(f"{BASE}/types/C010103/retire", headers=admin, json={"reason": "试用"})
    assert retired.status_code == 200 and retired.json()["valid_to"]
    gone = client.get(f"{BASE}/types/C010103/at", headers=admin,
                      params={"at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()})
    assert gone.status_code == 404 and "已停用" in gone.json()["detail"]
    assert client.get(f"{BASE}/types", headers=admin,
                      params={"status": "retired"}).json()["total"] == 1


def test_a_bad_type_is_a_problem_listing_every_field(client, users):
    admin = users["admin1"]
    body = _type_body(client, admin, "C010101")
    body.update(code="E010299", urgency="urgent", time_limit={"value": 4, "unit": "working_days"})
    response = client.post(f"{BASE}/types", headers=admin, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"code", "time_limit.unit"} <= fields


@pytest.mark.parametrize("user", ["disp1", "citizen1"])
def test_non_admins_cannot_write(client, users, user):
    headers = users[user]
    body = _type_body(client, users["admin1"], "C010101")
    assert client.put(f"{BASE}/types/C010101", headers=headers, json=body).status_code == 403
    assert client.post(f"{BASE}/types/C010101/retire", headers=headers).status_code == 403
    assert client.post(f"{BASE}/rules", headers=headers, json={
        "type_code": "E010201", "unit_code": "D1"}).status_code == 403
    assert client.post(f"{BASE}/rules/R0001/deactivate", headers=headers).status_code == 403
    assert client.post(f"{BASE}/import", headers=headers, files={
        "file": ("c.xlsx", b"x", XLSX)}).status_code == 403


def test_duty_rules_are_managed_and_resolution_explains_itself(client, users):
    admin, dispatcher = users["admin1"], users["disp1"]
    answer = client.get(f"{BASE}/duty", headers=dispatcher,
                        params={"type_code": "C010101", "street_code": "S1"}).json()
    assert answer["unit_code"] == "D1-S1" and answer["rule_id"] == "R0001"
    owner = client.get(f"{BASE}/duty", headers=dispatcher, params={
        "type_code": "C010102", "street_code": "S2", "owner_code": "W1"}).json()
    assert owner["unit_code"] == "W1" and "权属单位 W1" in owner["explanation"]
    created = client.post(f"{BASE}/rules", headers=admin, json={
        "type_code": "E010201", "unit_code": "D1", "street_code": "S2"})
    assert created.status_code == 201 and created.json()["rule_id"] == "R0004"
    patched = client.patch(f"{BASE}/rules/R0004", headers=admin, json={"note": "演示"})
    assert patched.json()["note"] == "演示"
    assert client.post(f"{BASE}/rules/R0004/deactivate", headers=admin).status_code == 200
    assert client.post(f"{BASE}/rules/R0004/deactivate", headers=admin).status_code == 409
    fallback = client.get(f"{BASE}/duty", headers=dispatcher,
                          params={"type_code": "E010201", "street_code": "S2"}).json()
    assert fallback["unit_code"] == "S2" and fallback["fallback"] and fallback["rule_id"] is None
    page = client.get(f"{BASE}/rules", headers=dispatcher, params={"active": True}).json()
    assert page["total"] == 3
    assert client.get(f"{BASE}/rules", headers=users["citizen1"]).status_code == 403


def test_excel_export_and_import_over_http(client, database, users):
    admin = users["admin1"]
    exported = client.get(f"{BASE}/export.xlsx", headers=admin)
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX
    response = client.post(f"{BASE}/import", headers=admin,
                           files={"file": ("事项目录.xlsx", exported.content, XLSX)})
    assert response.status_code == 200, response.text
    assert response.json()["types_unchanged"] == 3 and response.json()["types_created"] == 0
    assert export_bytes(database)  # still readable
    bad = client.post(f"{BASE}/import", headers=admin,
                      files={"file": ("x.xlsx", b"not excel", XLSX)})
    assert bad.status_code == 422


def test_an_upload_over_10_mb_is_refused(client, users):
    response = client.post(f"{BASE}/import", headers=users["admin1"],
                           files={"file": ("big.xlsx", b"0" * (10 * 1024 * 1024 + 1), XLSX)})
    assert response.status_code == 422 and "10 MB" in response.json()["detail"]


def test_reference_lists_and_stats(client, users):
    headers = users["disp1"]
    assert len(client.get(f"{BASE}/domains", headers=headers).json()) == 4
    classes = client.get(f"{BASE}/classes", headers=headers,
                         params={"category": "component"}).json()
    assert {c["code"] for c in classes} >= {"01", "0101"}
    stats = client.get(f"{BASE}/stats", headers=headers).json()
    assert stats["types"] == 3 and stats["per_domain"]["urban_management"] == 3
    assert client.get(f"{BASE}/types").status_code == 401
