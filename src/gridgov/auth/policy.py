"""The access policy, in one place: what each role may do, and on which rows.

A decision needs the principal (who, in which unit) and, for row-level actions, the facts of
the row (`Target`): where it is, which units it was sent to, who reported it. A role's grant
for an action is a `Scope`:

- DISTRICT     every row;
- AREA         rows inside the jurisdiction of the principal's unit: the district centre's is
               the whole district, a street's (and its sub-centre's, sections' and bodies') is
               the street, a community's is the community; departments have no area;
- ASSIGNED     rows sent to the principal's unit or a unit below it;
- OWN_REPORTS  rows the principal reported.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from gridgov.org.rules import UnitKind


class Role(StrEnum):
    PUBLIC = "public"
    SUPERVISOR = "supervisor"
    INTAKE = "intake"
    DISPATCHER = "dispatcher"
    STREET = "street"
    GRASSROOTS = "grassroots"
    DEPARTMENT = "department"
    LEADER = "leader"
    ADMIN = "admin"
    CALLER = "caller"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.PUBLIC: "市民",
    Role.SUPERVISOR: "网格监督员",
    Role.INTAKE: "受理员",
    Role.DISPATCHER: "派遣员/值班长",
    Role.STREET: "街道分中心",
    Role.GRASSROOTS: "街巷长/小巷管家/社区工作者",
    Role.DEPARTMENT: "职能部门",
    Role.LEADER: "领导",
    Role.ADMIN: "系统管理员",
    Role.CALLER: "第三方回访员",
}

K = UnitKind
# The kinds of unit in which a role may be held.
ROLE_UNIT_KINDS: dict[Role, frozenset[UnitKind]] = {
    Role.PUBLIC: frozenset({K.PUBLIC}),
    Role.SUPERVISOR: frozenset({K.DISTRICT_CENTRE, K.SUBCENTRE}),
    Role.INTAKE: frozenset({K.DISTRICT_CENTRE, K.SUBCENTRE}),
    Role.DISPATCHER: frozenset({K.DISTRICT_CENTRE}),
    Role.STREET: frozenset({K.STREET, K.SUBCENTRE}),
    Role.GRASSROOTS: frozenset({K.COMMUNITY, K.STREET, K.SECTION, K.OUTSIDE_BODY}),
    Role.DEPARTMENT: frozenset({K.DEPARTMENT, K.FIELD_UNIT, K.SECTION, K.OUTSIDE_BODY}),
    Role.LEADER: frozenset({K.DISTRICT_CENTRE, K.STREET}),
    Role.ADMIN: frozenset({K.DISTRICT_CENTRE}),
    Role.CALLER: frozenset({K.DISTRICT_CENTRE, K.OUTSIDE_BODY}),
}


class Action(StrEnum):
    # Without a row: allowed or not.
    UNIT_READ = "unit.read"
    UNIT_MANAGE = "unit.manage"
    USER_MANAGE = "user.manage"
    TOKEN_MANAGE = "token.manage"
    CONFIG_MANAGE = "config.manage"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    DASHBOARD_READ = "dashboard.read"
    ASSESSMENT_READ = "assessment.read"
    ASSESSMENT_PUBLISH = "assessment.publish"
    CASE_REPORT = "case.report"
    # On a row (a case, a whistle …).
    CASE_READ = "case.read"
    PERSONAL_DATA_READ = "personal_data.read"
    CASE_FILE = "case.file"
    CASE_MERGE = "case.merge"
    CASE_DISPATCH = "case.dispatch"
    CASE_HANDLE = "case.handle"
    CASE_SELF_HANDLE = "case.self_handle"
    CASE_VERIFY = "case.verify"
    CASE_CLOSE = "case.close"
    CASE_FORCE_CLOSE = "case.force_close"
    CASE_DECIDE_EXTENSION = "case.decide_extension"
    CASE_SUPERVISE = "case.supervise"
    CASE_REPLY = "case.reply"
    CASE_RATE = "case.rate"
    CASE_CALLBACK = "case.callback"
    WHISTLE_START = "whistle.start"
    WHISTLE_SUMMON = "whistle.summon"
    WHISTLE_REPORT_IN = "whistle.report_in"
    WHISTLE_RATE = "whistle.rate"


# Actions that are not about one row: a role either may or may not.
UNSCOPED_ACTIONS: frozenset[Action] = frozenset({
    Action.UNIT_READ, Action.UNIT_MANAGE, Action.USER_MANAGE, Action.TOKEN_MANAGE,
    Action.CONFIG_MANAGE, Action.AUDIT_READ, Action.AUDIT_VERIFY, Action.DASHBOARD_READ,
    Action.ASSESSMENT_READ, Action.ASSESSMENT_PUBLISH, Action.CASE_REPORT,
})


class Scope(StrEnum):
    DISTRICT = "district"
    AREA = "area"
    ASSIGNED = "assigned"
    OWN_REPORTS = "own_reports"


A, S = Action, Scope
GRANTS: dict[Role, Mapping[Action, Scope]] = {
    Role.PUBLIC: {
        A.CASE_REPORT: S.DISTRICT, A.CASE_READ: S.OWN_REPORTS,
        A.PERSONAL_DATA_READ: S.OWN_REPORTS, A.CASE_RATE: S.OWN_REPORTS,
    },
    Role.SUPERVISOR: {
        A.UNIT_READ: S.DISTRICT, A.CASE_REPORT: S.DISTRICT, A.CASE_READ: S.AREA,
        A.CASE_SELF_HANDLE: S.AREA, A.CASE_VERIFY: S.AREA,
    },
    Role.INTAKE: {
        A.UNIT_READ: S.DISTRICT, A.CASE_REPORT: S.DISTRICT, A.CASE_READ: S.AREA,
        A.PERSONAL_DATA_READ: S.AREA, A.CASE_FILE: S.AREA, A.CASE_MERGE: S.AREA,
    },
    Role.DISPATCHER: {
        A.UNIT_READ: S.DISTRICT, A.DASHBOARD_READ: S.DISTRICT, A.ASSESSMENT_READ: S.DISTRICT,
        A.CASE_READ: S.AREA, A.PERSONAL_DATA_READ: S.AREA, A.CASE_FILE: S.AREA,
        A.CASE_MERGE: S.AREA, A.CASE_DISPATCH: S.AREA, A.CASE_VERIFY: S.AREA,
        A.CASE_CLOSE: S.AREA, A.CASE_FORCE_CLOSE: S.AREA, A.CASE_DECIDE_EXTENSION: S.AREA,
        A.CASE_SUPERVISE: S.AREA, A.CASE_REPLY: S.AREA, A.WHISTLE_SUMMON: S.AREA,
    },
    Role.STREET: {
        A.UNIT_READ: S.DISTRICT, A.DASHBOARD_READ: S.DISTRICT, A.ASSESSMENT_READ: S.DISTRICT,
        A.CASE_REPORT: S.DISTRICT, A.CASE_READ: S.AREA, A.PERSONAL_DATA_READ: S.AREA,
        A.CASE_FILE: S.AREA, A.CASE_DISPATCH: S.AREA, A.CASE_HANDLE: S.ASSIGNED,
        A.CASE_REPLY: S.AREA, A.WHISTLE_START: S.AREA, A.WHISTLE_RATE: S.AREA,
    },
    Role.GRASSROOTS: {
        A.UNIT_READ: S.DISTRICT, A.CASE_REPORT: S.DISTRICT, A.CASE_READ: S.AREA,
        A.CASE_SELF_HANDLE: S.AREA,
    },
    Role.DEPARTMENT: {
        A.UNIT_READ: S.DISTRICT, A.ASSESSMENT_READ: S.DISTRICT, A.CASE_READ: S.ASSIGNED,
        A.CASE_HANDLE: S.ASSIGNED, A.WHISTLE_REPORT_IN: S.ASSIGNED,
    },
    Role.LEADER: {
        A.UNIT_READ: S.DISTRICT, A.DASHBOARD_READ: S.DISTRICT, A.ASSESSMENT_READ: S.DISTRICT,
        A.AUDIT_READ: S.DISTRICT, A.CASE_READ: S.AREA,
    },
    Role.ADMIN: {
        A.UNIT_READ: S.DISTRICT, A.UNIT_MANAGE: S.DISTRICT, A.USER_MANAGE: S.DISTRICT,
        A.TOKEN_MANAGE: S.DISTRICT, A.CONFIG_MANAGE: S.DISTRICT, A.AUDIT_READ: S.DISTRICT,
        A.AUDIT_VERIFY: S.DISTRICT, A.ASSESSMENT_READ: S.DISTRICT, A.ASSESSMENT_PUBLISH: S.DISTRICT,
        A.CASE_READ: S.AREA,
    },
    # A third party calling reporters back (回访): reads cases and the reporters' numbers
    # district-wide, records callback outcomes; nothing else.
    Role.CALLER: {
        A.CASE_READ: S.DISTRICT, A.PERSONAL_DATA_READ: S.DISTRICT, A.CASE_CALLBACK: S.DISTRICT,
    },
}


@dataclass(frozen=True)
class UnitRef:
    """What the policy needs to know of a unit: its kind, place in the tree and jurisdiction."""

    id: int
    kind: UnitKind
    path: str  # '/1/5/23/' ancestors including itself
    street_id: int | None = None  # the street it belongs to (itself, if a street)
    community_id: int | None = None  # the community it belongs to (itself, if a community)

    @property
    def jurisdiction_path(self) -> str:
        """Where the unit's assigned work is rooted: a street sub-centre acts for its street."""
        if self.kind is UnitKind.SUBCENTRE:
            return self.path.rsplit("/", 2)[0] + "/"
        return self.path

    def contains(self, other_path: str) -> bool:
        """Whether a unit at `other_path` is this unit, below it, or (for a sub-centre) in its street."""
        return other_path.startswith(self.jurisdiction_path)


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    username: str
    roles: frozenset[Role]
    unit: UnitRef


@dataclass(frozen=True)
class Target:
    """The facts of a row the policy decides on."""

    street_id: int | None = None
    community_id: int | None = None
    assigned_unit_paths: tuple[str, ...] = ()
    reporter_user_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    role: Role | None = None
    scope: Scope | None = None


DENY = Decision(False)


def role_fits_unit(role: Role, kind: UnitKind) -> bool:
    return kind in ROLE_UNIT_KINDS[role]


def in_area(unit: UnitRef, target: Target) -> bool:
    if unit.kind is UnitKind.DISTRICT_CENTRE:
        return True
    if unit.community_id is not None:
        return target.community_id == unit.community_id
    if unit.street_id is not None:
        return target.street_id == unit.street_id
    return False


def scope_covers(scope: Scope, principal: Principal, target: Target) -> bool:
    match scope:
        case Scope.DISTRICT:
            return True
        case Scope.AREA:
            return in_area(principal.unit, target)
        case Scope.ASSIGNED:
            return any(principal.unit.contains(path) for path in target.assigned_unit_paths)
        case Scope.OWN_REPORTS:
            return principal.user_id is not None and principal.user_id in target.reporter_user_ids


def decide(principal: Principal, action: Action, target: Target | None = None) -> Decision:
    """Allowed if any role the principal holds (in a unit that fits it) grants the action on
    the target. Row-level actions without a target ask "on some rows?" (for listings)."""
    for role in sorted(principal.roles):
        if not role_fits_unit(role, principal.unit.kind):
            continue
        scope = GRANTS[role].get(action)
        if scope is None:
            continue
        if target is None or action in UNSCOPED_ACTIONS or scope_covers(
            scope, principal, target
        ):
            return Decision(True, role, scope)
    return DENY


def scopes_for(principal: Principal, action: Action) -> frozenset[Scope]:
    """Every scope in which the principal may perform `action` (for filtering listings)."""
    return frozenset(
        GRANTS[role][action] for role in principal.roles
        if role_fits_unit(role, principal.unit.kind) and action in GRANTS[role]
    )


def mask_name(name: str | None) -> str | None:
    """张三丰 → 张**: keeps the family name, hides the rest."""
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678; shorter numbers keep only their last two digits."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(len(digits) - 2, 1) + digits[-2:]
