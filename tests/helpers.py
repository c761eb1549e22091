"""Small builders shared by tests: units, users, signed-in clients."""

from datetime import date

from fastapi.testclient import TestClient

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.auth.policy import Role
from gridgov.auth.schemas import UserIn
from gridgov.config import Settings
from gridgov.db import Database
from gridgov.org import service as org
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.org.schemas import UnitIn

PASSWORD = "Correct-horse-42"


def add_unit(database: Database, code: str, kind: UnitKind, parent: str | None = None,
             name: str | None = None) -> Unit:
    with database.write() as db:
        return org.create_unit(db, actor=SYSTEM_ACTOR, data=UnitIn(
            code=code, name=name or f"单位{code}", kind=kind, parent_code=parent,
            valid_from=date(2020, 1, 1)))


def small_org(database: Database) -> None:
    """District centre, two streets with a community each, a department with a field unit."""
    add_unit(database, "DC", UnitKind.DISTRICT_CENTRE, name="区网格化服务管理中心")
    add_unit(database, "PUB", UnitKind.PUBLIC, "DC", name="社会公众")
    for street in ("S1", "S2"):
        add_unit(database, street, UnitKind.STREET, "DC", name=f"{street}街道")
        add_unit(database, f"{street}-FZX", UnitKind.SUBCENTRE, street)
        add_unit(database, f"{street}-C1", UnitKind.COMMUNITY, street)
    add_unit(database, "D1", UnitKind.DEPARTMENT, "DC", name="城管委")
    add_unit(database, "D1-F1", UnitKind.FIELD_UNIT, "D1")


def add_user(database: Database, settings: Settings, username: str, role: Role, unit_code: str,
             password: str = PASSWORD) -> User:
    with database.write() as db:
        return auth.create_user(db, settings=settings, actor=SYSTEM_ACTOR, data=UserIn(
            username=username, display_name=username, password=password, unit_code=unit_code,
            roles=[role]))


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
