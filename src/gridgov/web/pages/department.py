"""The department workbench (部门工作台): the unit's case inbox as tabs, with each case's
running clock and the actions its state allows, and the whistle summons it must report in to."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from gridgov.auth.policy import Action, Principal
from gridgov.cases import clocks, queries, service
from gridgov.cases.models import Case, CaseAssignment, CaseEvent
from gridgov.cases.rules import OPEN_STATES, SAME, TRANSITIONS, CaseStatus, Node
from gridgov.cases.schemas import TransitionFields
from gridgov.catalog.models import MatterTypeVersion
from gridgov.config import Settings
from gridgov.errors import DomainError, InvalidInput
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.whistle import service as whistles
from gridgov.whistle.models import Whistle, WhistleSummons
from gridgov.whistle.rules import SummonsStatus
from gridgov.web.forms import FormDep
from gridgov.web.redirects import done
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()
DEPARTMENT_USER = page_for(Action.CASE_HANDLE)
HOME = "/department"
TABS: tuple[tuple[str, str], ...] = (
    ("new", "新派件"), ("returned", "退回"), ("due_soon", "即将超时"), ("overdue", "已超时"),
    ("in_hand", "处置中"),
)
# Transitions that keep the state (extensions, supervision) do not end a "returned" spell.
_STATE_KEEPING = tuple(name for name, t in TRANSITIONS.items() if t.target == SAME)


@dataclass(frozen=True)
class CaseRow:
    """A case as a list shows it: what, where, and the clock that matters now."""

    case: Case
    type_name: str
    place: str
    status_label: str
    clock_label: str | None = None
    deadline: datetime | None = None
    started: datetime | None = None
    actions: tuple[tuple[str, str], ...] = field(default=())


def case_rows(db: Session, cases: Sequence[Case], *,
              node_of: Callable[[Case], Node | None] = lambda case: None) -> list[CaseRow]:
    """Rows for `cases`, each with the running clock of the node `node_of(case)` names."""
    type_ids = {c.type_version_id for c in cases if c.type_version_id}
    type_names = dict(db.execute(select(MatterTypeVersion.id, MatterTypeVersion.name)
                                 .where(MatterTypeVersion.id.in_(type_ids))).all()) if type_ids else {}
    community_ids = {c.community_id for c in cases}
    communities = dict(db.execute(select(Unit.id, Unit.name).where(Unit.id.in_(community_ids))).all()
                       ) if community_ids else {}
    rows = []
    for case in cases:
        node = node_of(case)
        running = clocks.running_clock(case, node) if node else None
        rows.append(CaseRow(
            case=case, type_name=type_names.get(case.type_version_id, "未定类"),
            status_label=CaseStatus(case.status).label,
            place=case.address or f"{communities.get(case.community_id, '')} 网格 {case.unit_grid_code}",
            clock_label=node.label if running else None,
            deadline=running.deadline_at if running else None,
            started=running.started_at if running else None))
    return rows


def _jurisdiction(db: Session, principal: Principal) -> list[Unit]:
    """The unit and every unit below it (for a sub-centre: its street's)."""
    return list(db.scalars(select(Unit).where(Unit.path.startswith(principal.unit.jurisdiction_path))
                           .order_by(Unit.code)))


def _held(db: Session, principal: Principal, unit_ids: set[int], *conditions) -> list[Case]:
    return list(db.scalars(select(Case).where(
        queries.visible(principal), Case.status.in_(OPEN_STATES), Case.holder_unit_id.in_(unit_ids),
        *conditions).order_by(Case.id).limit(200)))


def _returned_by_sub_units(db: Session, principal: Principal, unit_ids: set[int]) -> list[Case]:
    """Cases a sub-unit sent back (return_to_sender), not moved on since."""
    latest_move = (select(func.max(CaseEvent.id)).where(
        CaseEvent.case_id == Case.id, CaseEvent.transition.not_in(_STATE_KEEPING))
        .correlate(Case).scalar_subquery())
    returned = select(CaseEvent.id).where(CaseEvent.id == latest_move,
                                          CaseEvent.transition == "return_to_sender").exists()
    return _held(db, principal, unit_ids, Case.status == CaseStatus.RECEIVED, returned)


def inbox_tabs(db: Session, *, settings: Settings, principal: Principal, unit_ids: set[int]) -> dict[str, list[Case]]:
    """The unit's work by tab; clocks count only for cases the unit (or a unit below) holds."""
    boxes = queries.inbox(db, settings=settings, principal=principal)
    return {
        "new": boxes["new"],
        "returned": _returned_by_sub_units(db, principal, unit_ids),
        "due_soon": [c for c in boxes["due_soon"] if c.holder_unit_id in unit_ids],
        "overdue": [c for c in boxes["overdue"] if c.holder_unit_id in unit_ids],
        "in_hand": _held(db, principal, unit_ids, Case.status == CaseStatus.RECEIVED),
    }


def _return_name(depths: dict[int, int], case: Case) -> str:
    """A case passed down inside a unit goes back to the unit that passed it; otherwise to the district."""
    return "return_to_sender" if depths.get(case.id, 1) > 1 else "return_to_district"


def _actions(case: Case, *, depths: dict[int, int], may_pass_down: bool) -> tuple[tuple[str, str], ...]:
    back = _return_name(depths, case)
    names: list[str] = []
    if case.status == CaseStatus.RECEIVED:
        names += ["report_result", *(["redispatch"] if may_pass_down else [])]
    names += [back, "request_extension"]
    return tuple((name, TRANSITIONS[name].label) for name in names)


def _depths(db: Session, cases: Sequence[Case]) -> dict[int, int]:
    """How deep inside the holding unit's chain each case sits (1: sent by the district or street)."""
    if not cases:
        return {}
    rows = db.execute(select(CaseAssignment.case_id, CaseAssignment.depth).where(
        CaseAssignment.case_id.in_([c.id for c in cases]), CaseAssignment.ended_at.is_(None),
        CaseAssignment.unit_id == select(Case.holder_unit_id).where(Case.id == CaseAssignment.case_id)
        .scalar_subquery()))
    return {case_id: depth for case_id, depth in rows}


def _clock_node(case: Case) -> Node:
    return Node.RECEIPT if case.status == CaseStatus.DISPATCHED else Node.HANDLING


@dataclass(frozen=True)
class SummonsRow:
    whistle: Whistle
    summons: WhistleSummons
    status_label: str


def summons_rows(db: Session, principal: Principal) -> list[SummonsRow]:
    """The unit's whistle summons to report in to, then those in hand, with their report-in deadline."""
    boxes = whistles.inbox(db, principal=principal)
    listed = [*boxes.get("to_report_in", []), *boxes.get("in_hand", [])]
    if not listed:
        return []
    mine = {s.whistle_id: s for s in db.scalars(select(WhistleSummons).where(
        WhistleSummons.whistle_id.in_([w.id for w in listed]), whistles.mine(db, principal)))}
    return [SummonsRow(w, mine[w.id], SummonsStatus(mine[w.id].status).label) for w in listed if w.id in mine]


@router.get("/department")
def workbench(request: Request, db: SessionDep, settings: SettingsDep, tab: str = "new",
              part: str | None = None, user: WebUser = DEPARTMENT_USER) -> Response:
    """The inbox; `part=inbox` answers only the tab list (the page refreshes it every 30 s)."""
    return _workbench(request, db, settings, user, tab=tab if tab in dict(TABS) else "new", part=part)


@router.post("/department/receive")
def receive_checked(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
                    user: WebUser = DEPARTMENT_USER) -> Response:
    """签收所选: the cases checked in the new-cases tab, received together — all or none, and a
    refusal names the case that stopped them."""
    try:
        checked = _checked(form.get("cases"))
        service.transition_many(db, settings=settings, principal=user.principal, name="receive", cases=checked,
                                data=TransitionFields(), conceal_unreadable=True)
    except DomainError as error:
        db.rollback()
        return _workbench(request, db, settings, user, tab="new", error=error.detail, status_code=error.status)
    return done(request, f"{HOME}?tab=new", f"已签收 {len(checked)} 件")


def _checked(value: str) -> list[tuple[int, int]]:
    """The checkboxes' "id:version" values, as the form sends them (comma-joined)."""
    try:
        checked = [(int(case_id), int(version)) for case_id, _, version in
                   (item.partition(":") for item in value.split(",") if item)]
    except ValueError:
        raise InvalidInput("所选案件无效，请刷新页面后重试") from None
    if not checked:
        raise InvalidInput("请先勾选要签收的案件")
    return checked


def _workbench(request: Request, db: Session, settings: Settings, user: WebUser, *, tab: str,
               part: str | None = None, error: str | None = None, status_code: int = 200) -> Response:
    units = _jurisdiction(db, user.principal)
    unit_ids = {u.id for u in units}
    boxes = inbox_tabs(db, settings=settings, principal=user.principal, unit_ids=unit_ids)
    shown = boxes[tab]
    depths = _depths(db, shown)
    may_pass_down = len(units) > 1
    rows = [replace(row, actions=_actions(row.case, depths=depths, may_pass_down=may_pass_down))
            for row in case_rows(db, shown, node_of=_clock_node)]
    context = {"tabs": [(key, label, len(boxes[key])) for key, label in TABS], "tab": tab, "rows": rows,
               "return_to": HOME, "error": error}
    if part == "inbox":
        return render(request, "department/_inbox.html", context, user=user)
    context["summons"] = summons_rows(db, user.principal)
    return render(request, "department/workbench.html", context, user=user, status_code=status_code)
