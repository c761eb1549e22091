from gridgov.auth.policy import Role
from tests.helpers import PASSWORD, add_user, bearer, small_org


def _admin(client, database, settings) -> dict:
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    return bearer(client, "admin1")


def test_admin_creates_a_user_who_can_then_sign_in(client, database, settings):
    admin = _admin(client, database, settings)
    response = client.post("/api/v1/users", headers=admin, json={
        "username": "zhang.wei", "display_name": "张伟", "password": "Zhangwei2026",
        "unit_code": "D1", "roles": ["department"], "phone": "13800000000"})
    assert response.status_code == 201, response.text
    assert response.json()["role_labels"] == ["职能部门"]
    assert bearer(client, "zhang.wei", "Zhangwei2026")


def test_user_creation_lists_every_problem(client, database, settings):
    admin = _admin(client, database, settings)
    response = client.post("/api/v1/users", headers=admin, json={
        "username": "张", "display_name": "张伟", "password": "short", "unit_code": "S1",
        "roles": ["admin"]})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"username", "password", "roles"}


def test_duplicate_username_conflicts(client, database, settings):
    admin = _admin(client, database, settings)
    body = {"username": "admin1", "display_name": "x", "password": PASSWORD, "unit_code": "DC",
            "roles": ["leader"]}
    assert client.post("/api/v1/users", headers=admin, json=body).status_code == 409


def test_deactivating_a_user_ends_their_tokens(client, database, settings):
    admin = _admin(client, database, settings)
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    disp = bearer(client, "disp")
    assert client.patch("/api/v1/users/disp", headers=admin, json={"active": False}).status_code == 200
    assert client.get("/api/v1/auth/me", headers=disp).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "disp", "password": PASSWORD}).status_code == 401


def test_changing_roles_is_checked_against_the_unit(client, database, settings):
    admin = _admin(client, database, settings)
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    ok = client.patch("/api/v1/users/disp", headers=admin, json={"roles": ["dispatcher", "leader"]})
    assert ok.status_code == 200 and set(ok.json()["roles"]) == {"dispatcher", "leader"}
    bad = client.patch("/api/v1/users/disp", headers=admin, json={"roles": ["department"]})
    assert bad.status_code == 422
