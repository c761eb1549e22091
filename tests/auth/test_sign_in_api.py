from datetime import timedelta

from sqlalchemy import func, select, update

from gridgov.audit.models import AuditEvent
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth import service as auth
from gridgov.auth.models import ApiToken, User
from gridgov.auth.policy import Role
from gridgov.auth.rules import TokenKind
from gridgov.auth.schemas import UserIn
from gridgov.clock import utcnow
from gridgov.org.models import Unit
from tests.helpers import PASSWORD, add_user, bearer, small_org


def _events(database, action: str) -> list[AuditEvent]:
    with database.read() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _user(database, username: str) -> User:
    with database.read() as db:
        return db.scalar(select(User).where(User.username == username))


def test_sign_in_returns_a_bearer_token_that_identifies_the_user(client, database, settings):
    small_org(database)
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    me = client.get("/api/v1/auth/me", headers=bearer(client, "disp"))
    assert me.status_code == 200
    body = me.json()
    assert body["unit_code"] == "DC" and body["roles"] == ["dispatcher"]
    assert "case.dispatch" in body["permissions"] and "user.manage" not in body["permissions"]
    assert len(_events(database, "auth.login")) == 1


def test_wrong_password_is_refused_counted_and_audited(client, database, settings):
    small_org(database)
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    response = client.post("/api/v1/auth/token", json={"username": "disp", "password": "wrong-pass-1"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:gridgov:problem:not-authenticated"
    assert _user(database, "disp").failed_logins == 1
    [event] = _events(database, "auth.login_failed")
    assert event.object_id == "disp" and event.reason == "wrong password"


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, database, settings):
    small_org(database)
    response = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"})
    assert response.status_code == 401 and response.json()["detail"] == "用户名或密码错误"
    assert _events(database, "auth.login_failed")[0].actor_name == "anonymous"


def test_account_locks_after_repeated_failures_even_for_the_right_password(client, database, settings):
    small_org(database)
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    for _ in range(settings.lockout_threshold):
        client.post("/api/v1/auth/token", json={"username": "disp", "password": "wrong-pass-1"})
    response = client.post("/api/v1/auth/token", json={"username": "disp", "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["type"] == "urn:gridgov:problem:account-locked"
    assert _user(database, "disp").locked_until is not None


def test_admin_unlock_lets_the_user_in_again(client, database, settings):
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    admin = bearer(client, "admin1")
    for _ in range(settings.lockout_threshold):
        client.post("/api/v1/auth/token", json={"username": "disp", "password": "wrong-pass-1"})
    assert client.post("/api/v1/users/disp/unlock", headers=admin).status_code == 200
    assert bearer(client, "disp")


def test_expired_token_is_refused(client, database, settings):
    small_org(database)
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    headers = bearer(client, "disp")
    with database.write() as db:
        db.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401 and "过期" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_forged_token_is_refused_and_the_attempt_audited(client, database):
    small_org(database)
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer gga_forged"})
    assert response.status_code == 401
    [event] = _events(database, "access.denied")
    assert event.object_id == "GET /api/v1/auth/me" and "401" in event.reason


def test_malformed_authorization_header_is_refused(client, database):
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401 and "Bearer" in response.json()["detail"]


def test_sign_out_revokes_the_token(client, database, settings):
    small_org(database)
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    headers = bearer(client, "disp")
    assert client.delete("/api/v1/auth/session", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_browser_session_requires_the_csrf_token_for_changes(client, database, settings):
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    session = client.post("/api/v1/auth/session", json={"username": "admin1", "password": PASSWORD})
    assert session.status_code == 200 and "gridgov_session" in session.cookies
    csrf = session.json()["csrf_token"]
    assert client.get("/api/v1/auth/me").status_code == 200  # reads need no CSRF token
    body = {"code": "S9", "name": "新街道", "kind": "street", "parent_code": "DC", "valid_from": "2026-01-01"}
    refused = client.post("/api/v1/units", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert client.get("/api/v1/units/S9").status_code == 404  # nothing written
    assert client.post("/api/v1/units", json=body, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post("/api/v1/units", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert len(_events(database, "access.denied")) == 2


def test_integration_tokens_work_until_revoked(client, database, settings):
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    add_user(database, settings, "hotline", Role.INTAKE, "DC")
    admin = bearer(client, "admin1")
    issued = client.post("/api/v1/auth/integration-tokens", headers=admin,
                         json={"username": "hotline", "label": "12345 热线接口"})
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("ggi_")
    integration = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=integration).json()["username"] == "hotline"
    listed = client.get("/api/v1/auth/integration-tokens", headers=admin).json()
    assert [t["label"] for t in listed] == ["12345 热线接口"] and "token" not in listed[0]
    assert client.delete(f"/api/v1/auth/integration-tokens/{issued.json()['id']}", headers=admin).status_code == 200
    assert client.get("/api/v1/auth/me", headers=integration).status_code == 401


def test_only_the_digest_of_a_token_is_stored(client, database, settings):
    small_org(database)
    add_user(database, settings, "disp", Role.DISPATCHER, "DC")
    token = bearer(client, "disp")["Authorization"].split()[1]
    with database.read() as db:
        digests = list(db.scalars(select(ApiToken.digest)))
    assert token not in digests and all(len(d) == 64 for d in digests)


def test_a_user_acting_outside_their_role_is_refused_nothing_changes_and_it_is_audited(
    client, database, settings
):
    small_org(database)
    add_user(database, settings, "street1", Role.STREET, "S1-FZX")
    headers = bearer(client, "street1")
    with database.read() as db:
        users_before = db.scalar(select(func.count()).select_from(User))
    response = client.post("/api/v1/users", headers=headers, json={
        "username": "intruder", "display_name": "x", "password": "Abcdefgh1234",
        "unit_code": "DC", "roles": ["admin"]})
    assert response.status_code == 403 and response.json()["status"] == 403
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(User)) == users_before
    [event] = _events(database, "access.denied")
    assert event.actor_name == "street1" and event.object_id == "POST /api/v1/users"


def test_a_token_resolves_to_its_user_roles_and_the_street_and_community_of_its_unit(client, database, settings):
    small_org(database)
    expected = {"S2-C1": ("S2", "S2-C1", {Role.GRASSROOTS}), "S2-FZX": ("S2", None, {Role.STREET, Role.INTAKE}),
                "S2": ("S2", None, {Role.LEADER}), "D1-F1": (None, None, {Role.DEPARTMENT}),
                "DC": (None, None, {Role.ADMIN, Role.DISPATCHER, Role.LEADER})}
    with database.write() as db:
        ids = dict(db.execute(select(Unit.code, Unit.id)).all())
        for code, (street, community, roles) in expected.items():
            user = auth.create_user(db, settings=settings, actor=SYSTEM_ACTOR, data=UserIn(
                username=f"u-{code.lower()}", display_name=code, password=PASSWORD, unit_code=code, roles=list(roles)))
            token, _ = auth.issue_token(db, settings=settings, actor=SYSTEM_ACTOR, user=user, kind=TokenKind.ACCESS,
                                        lifetime=None)
            principal = auth.resolve_caller(db, settings=settings, token=token, kinds={TokenKind.ACCESS}).principal
            unit = principal.unit
            assert (unit.id, unit.street_id, unit.community_id) == (ids[code], ids.get(street), ids.get(community))
            assert principal.roles == roles and principal == auth.principal_for(db, user)
