"""Each role's workbenches, in the order the navigation shows them; the first is its home."""

from dataclasses import dataclass

from gridgov.auth.policy import Role


@dataclass(frozen=True)
class Link:
    path: str
    label: str


INTAKE = Link("/intake", "受理")
DISPATCH = Link("/dispatch", "派遣调度")
CASES = Link("/cases", "案件查询")
STREET = Link("/street", "街道工作台")
WHISTLES = Link("/whistles", "吹哨报到")
DEPARTMENT = Link("/department", "部门工作台")
FIELD = Link("/field", "巡查上报")
DASHBOARD = Link("/dashboard", "指挥驾驶舱")
ASSESSMENT = Link("/assessment", "绩效考核")
CALLBACKS = Link("/callbacks", "回访")
ADMIN = Link("/admin", "系统管理")
PUBLIC_REPORT = Link("/report", "随手拍")

WORKBENCHES: dict[Role, tuple[Link, ...]] = {
    Role.INTAKE: (INTAKE, CASES),
    Role.DISPATCHER: (DISPATCH, INTAKE, CASES, DASHBOARD, ASSESSMENT),
    Role.SUPERVISOR: (FIELD, CASES),
    Role.GRASSROOTS: (FIELD, CASES),
    Role.STREET: (STREET, WHISTLES, CASES, DASHBOARD, ASSESSMENT),
    Role.DEPARTMENT: (DEPARTMENT, WHISTLES, ASSESSMENT),
    Role.LEADER: (DASHBOARD, ASSESSMENT, CASES),
    Role.ADMIN: (ADMIN, ASSESSMENT, CASES),
    Role.CALLER: (CALLBACKS, CASES),
    Role.PUBLIC: (PUBLIC_REPORT,),
}


def links_for(roles: frozenset[Role]) -> list[Link]:
    """The union of the roles' workbenches, without repeats, in role order."""
    seen: dict[str, Link] = {}
    for role in sorted(roles):
        for link in WORKBENCHES.get(role, ()):
            seen.setdefault(link.path, link)
    return list(seen.values())
