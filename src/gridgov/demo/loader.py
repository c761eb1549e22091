"""Loads the Dongcheng demo organisation and one account per role."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.auth.policy import Role
from gridgov.auth.schemas import UserIn
from gridgov.config import Settings
from gridgov.demo.dongcheng import (
    DEPARTMENTS, DISTRICT_CENTRE_CODE, DISTRICT_CENTRE_NAME, PROPERTY_COMPANY_PATTERN, STREET_SECTIONS,
    STREETS, UTILITIES,
)
from gridgov.org import service as org
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.org.schemas import UnitIn

DEMO_VALID_FROM = date(2004, 10, 1)  # Dongcheng's grid platform went live in 2004
# The demo's grid and catalog are in force since then, so cases of any past date can use them.
DEMO_IN_FORCE_SINCE = datetime.combine(DEMO_VALID_FROM, time(), tzinfo=UTC)
PUBLIC_UNIT_CODE = "PUBLIC"
DEMO_PASSWORD = "Dongcheng2026"


def subcentre_code(street_code: str) -> str:
    return f"{street_code}-FZX"


def field_unit_code(department_code: str, street_seq: int) -> str:
    return f"{department_code}-{street_seq:02d}"


def demo_units() -> list[UnitIn]:
    def unit(code: str, name: str, kind: UnitKind, parent: str | None, short: str | None = None,
             serves: str | None = None) -> UnitIn:
        return UnitIn(code=code, name=name, short_name=short, kind=kind, parent_code=parent,
                      serves_street_code=serves, valid_from=DEMO_VALID_FROM)

    units = [
        unit(DISTRICT_CENTRE_CODE, DISTRICT_CENTRE_NAME, UnitKind.DISTRICT_CENTRE, None, "区中心"),
        unit(PUBLIC_UNIT_CODE, "社会公众", UnitKind.PUBLIC, DISTRICT_CENTRE_CODE),
    ]
    for body in DEPARTMENTS:
        units.append(unit(body.code, body.name, UnitKind.DEPARTMENT, DISTRICT_CENTRE_CODE, body.short_name))
    for body in UTILITIES:
        units.append(unit(body.code, body.name, UnitKind.OUTSIDE_BODY, DISTRICT_CENTRE_CODE, body.short_name))
    for seq, street in enumerate(STREETS, start=1):
        units.append(unit(street.code, street.full_name, UnitKind.STREET, DISTRICT_CENTRE_CODE, street.name))
        units.append(unit(subcentre_code(street.code), f"{street.full_name}网格化服务管理分中心",
                          UnitKind.SUBCENTRE, street.code, f"{street.name}分中心"))
        for index, section in enumerate(STREET_SECTIONS, start=1):
            units.append(unit(f"{street.code}-K{index:02d}", f"{street.full_name}{section}",
                              UnitKind.SECTION, street.code))
        units.append(unit(f"{street.code}-WY", PROPERTY_COMPANY_PATTERN.format(street=street.name),
                          UnitKind.OUTSIDE_BODY, street.code))
        for index, name in enumerate(street.communities):
            units.append(unit(street.community_code(index), f"{name}社区", UnitKind.COMMUNITY,
                              street.code, name))
        for body in DEPARTMENTS:
            if body.field_units_per_street:
                units.append(unit(field_unit_code(body.code, seq),
                                  body.field_units_per_street.format(street=street.name),
                                  UnitKind.FIELD_UNIT, body.code, serves=street.code))
    return units


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    unit_code: str


DHM = STREETS[0]
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "系统管理员", Role.ADMIN, DISTRICT_CENTRE_CODE),
    DemoAccount("leader", "区领导", Role.LEADER, DISTRICT_CENTRE_CODE),
    DemoAccount("intake", "受理员王敏", Role.INTAKE, DISTRICT_CENTRE_CODE),
    DemoAccount("dispatcher", "值班长李强", Role.DISPATCHER, DISTRICT_CENTRE_CODE),
    DemoAccount("supervisor", "监督员赵刚", Role.SUPERVISOR, DISTRICT_CENTRE_CODE),
    DemoAccount("street", "东华门分中心刘洋", Role.STREET, subcentre_code(DHM.code)),
    DemoAccount("community", "多福巷社区小巷管家陈静", Role.GRASSROOTS, DHM.community_code(0)),
    DemoAccount("department", "城管委张伟", Role.DEPARTMENT, "D001"),
    DemoAccount("fieldunit", "东华门城管执法队孙涛", Role.DEPARTMENT, field_unit_code("D002", 1)),
    DemoAccount("citizen", "市民周女士", Role.PUBLIC, PUBLIC_UNIT_CODE),
    DemoAccount("caller", "第三方回访员吴倩", Role.CALLER, DISTRICT_CENTRE_CODE),
)


def demo_loaded(db: Session) -> bool:
    return db.scalar(select(Unit.id).where(Unit.code == DISTRICT_CENTRE_CODE)) is not None


def load_demo_organisation(db: Session) -> int:
    """All demo units in one audited, all-or-nothing import; returns how many were created."""
    units = demo_units()
    created, _ = org.import_units(db, actor=SYSTEM_ACTOR, rows=list(enumerate(units, start=1)))
    return created


def load_demo_accounts(db: Session, *, settings: Settings) -> list[DemoAccount]:
    """Creates the demo accounts that do not exist yet; returns every demo account."""
    existing = set(db.scalars(select(User.username)))
    for account in DEMO_ACCOUNTS:
        if account.username in existing:
            continue
        auth.create_user(db, settings=settings, actor=SYSTEM_ACTOR, data=UserIn(
            username=account.username, display_name=account.display_name, password=DEMO_PASSWORD,
            unit_code=account.unit_code, roles=[account.role]))
    return list(DEMO_ACCOUNTS)
