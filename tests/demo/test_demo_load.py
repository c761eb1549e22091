from sqlalchemy import func, select

from gridgov.audit import service as audit
from gridgov.auth.models import User
from gridgov.auth.policy import Role
from gridgov.demo import loader
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind


def _count(db, kind: UnitKind) -> int:
    return db.scalar(select(func.count()).select_from(Unit).where(Unit.kind == kind))


def test_demo_loads_dongcheng_with_its_17_streets_and_177_communities(database, settings):
    with database.write() as db:
        loader.load_demo_organisation(db)
        loader.load_demo_accounts(db, settings=settings)
    with database.read() as db:
        assert _count(db, UnitKind.STREET) == 17
        assert _count(db, UnitKind.COMMUNITY) == 177
        assert _count(db, UnitKind.SUBCENTRE) == 17
        assert _count(db, UnitKind.DEPARTMENT) + _count(db, UnitKind.OUTSIDE_BODY) - 17 >= 40
        names = set(db.scalars(select(Unit.name).where(Unit.kind == UnitKind.STREET)))
        assert {"东华门街道", "永定门外街道", "体育馆路街道"} <= names
        assert db.scalar(select(Unit.code).where(Unit.name == "东华门街道")) == "110101001"
        roles = {role for user in db.scalars(select(User)) for role in user.roles}
        assert roles == set(Role)
        assert audit.verify(db).intact


def test_demo_accounts_are_not_created_twice(database, settings):
    with database.write() as db:
        loader.load_demo_organisation(db)
        loader.load_demo_accounts(db, settings=settings)
        loader.load_demo_accounts(db, settings=settings)
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(User)) == len(loader.DEMO_ACCOUNTS)
