"""What a user may do to a whistle now, and the forms of those steps: which transitions of
`gridgov.whistle.rules.TRANSITIONS` are open to them (for a department: on which of its
summons), how each form's fields become the step's payload, and how the service's field
names (``departments[0].task``, ``ratings[1].comment``) map back onto the form's inputs."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.auth.policy import Principal, decide
from gridgov.cases.models import CaseReporter
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.whistle import service
from gridgov.whistle.models import Whistle, WhistleSummons
from gridgov.whistle.rules import (
    RATING_LABELS, RATING_POINTS, SUMMONABLE_KINDS, TRANSITIONS, SummonsStatus, WhistleStatus,
)
from gridgov.web.forms import FormState, SubmittedForm, validate

from pydantic import BaseModel

UNIT_FIELD, DEPARTMENTS = "unit_code", "departments"
M = TypeVar("M", bound=BaseModel)


# --- the steps open to a user --------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One transition the user may take now; `summons` for a department's own step."""

    name: str
    label: str
    summons: WhistleSummons | None = None

    def url(self, whistle_id: int) -> str:
        query = f"?summons_id={self.summons.id}" if self.summons is not None else ""
        return f"/whistles/{whistle_id}/act/{self.name}{query}"


def outcome_ready(whistle: Whistle, now: datetime) -> bool:
    """Every summons is done, withdrawn or missed — or sent and past its report-in deadline
    (it becomes missed with the outcome): the street may report the outcome."""
    return all(
        s.status in (SummonsStatus.DONE, SummonsStatus.MISSED, SummonsStatus.WITHDRAWN)
        or (s.status == SummonsStatus.SENT and s.report_in_due_at is not None and s.report_in_due_at < now)
        for s in whistle.summons)


def _possible_now(name: str, whistle: Whistle, now: datetime) -> bool:
    if name == "summon":
        return any(s.status == SummonsStatus.PENDING for s in whistle.summons)
    if name == "report_outcome":
        return outcome_ready(whistle, now)
    return True


def open_steps(db: Session, principal: Principal, whistle: Whistle) -> list[Step]:
    """The table's transitions this principal may take on the whistle in its current state."""
    now, status = clock.utcnow(), WhistleStatus(whistle.status)
    steps = []
    for name, transition in TRANSITIONS.items():
        if status not in transition.sources or not _possible_now(name, whistle, now):
            continue
        if transition.on_summons:
            for summons in whistle.summons:
                if summons.status in transition.summons_sources and decide(
                        principal, transition.action, service.target_of(db, whistle, summons=summons)).allowed:
                    steps.append(Step(name, transition.label, summons))
        elif decide(principal, transition.action, service.target_of(db, whistle)).allowed:
            steps.append(Step(name, transition.label))
    return steps


def step_named(steps: list[Step], name: str, summons_id: int | None) -> Step | None:
    return next((s for s in steps if s.name == name
                 and (s.summons is None or s.summons.id == summons_id)), None)


# --- the department picker -----------------------------------------------------------------

def summonable_units(db: Session, *, street_id: int) -> list[Unit]:
    """Units a street may summon: departments and outside bodies in force, and the field
    units serving this street; by code."""
    today = clock.utcnow().date()
    units = db.scalars(select(Unit).where(Unit.kind.in_(SUMMONABLE_KINDS)).order_by(Unit.code))
    return [u for u in units if u.validity.active_on(today)
            and (u.kind != UnitKind.FIELD_UNIT or u.serves_street_id == street_id)]


def chosen_departments(form: SubmittedForm, state: FormState) -> list[dict[str, str]]:
    """The ticked units with the task written for each (`unit_code`, `task_<code>`)."""
    codes = [code for code in form.get(UNIT_FIELD).split(",") if code.strip()]
    state.values[UNIT_FIELD] = codes
    for code in codes:
        state.values[f"task_{code}"] = form.get(f"task_{code}")
    if not codes:
        state.add(DEPARTMENTS, "请至少选择一个应哨部门")
    for code in codes:
        if not form.get(f"task_{code}"):
            state.add(f"task_{code}", "请写明对该部门的工作要求")
    return [{"unit_code": code, "task": form.get(f"task_{code}")} for code in codes]


_INDEXED = re.compile(r"^(departments|ratings)(?:\[(\d+)\]|\.(\d+))\.?(\w*)$")


def place_errors(state: FormState, *, departments: list[dict[str, str]] | None = None,
                 ratings: list[dict[str, Any]] | None = None) -> None:
    """Move errors on list items (``departments[0].task``, ``ratings.1.comment``) onto the
    inputs the form shows for that item."""
    for key in [k for k in state.errors if _INDEXED.match(k)]:
        kind, bracket, dotted, part = _INDEXED.match(key).groups()
        index, message = int(bracket or dotted), state.errors.pop(key)
        if kind == "departments" and departments and index < len(departments):
            code = departments[index]["unit_code"]
            target = f"task_{code}" if part == "task" else DEPARTMENTS
        elif kind == "ratings" and ratings and index < len(ratings) and part in (*RATING_POINTS, "comment"):
            target = f"rating_{ratings[index]['summons_id']}_{part}"
        else:
            target = DEPARTMENTS if kind == "departments" else "ratings"
        if target not in state.errors or target == DEPARTMENTS:
            state.add(target, message)


def checked(model: type[M], data: dict[str, Any], state: FormState) -> M | None:
    """`validate`, keeping the page's own message where a field already has one."""
    found = FormState()
    body = validate(model, data, found)
    for name, message in found.errors.items():
        if name not in state.errors:
            state.add(name, message)
    return body


# --- the step forms ------------------------------------------------------------------------

STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "summon": (),
    "add_departments": (),
    "report_in": ("place", "leader", "headcount", "forces", "arrived_at"),
    "finish_part": ("result",),
    "report_outcome": ("outcome", "reply_text", "reply_way"),
    "return_outcome": ("reason",),
    "close": ("note",),
    "cancel": ("reason",),
}


def local_datetime(text: str, tz: ZoneInfo, state: FormState, field_name: str) -> datetime | None:
    """A `datetime-local` input (Beijing time) as an aware instant; an error if malformed."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=tz)
    except ValueError:
        state.add(field_name, "时间格式应为 年-月-日 时:分")
        return None


def rated_summons(whistle: Whistle, now: datetime) -> list[WhistleSummons]:
    """The summons the outcome form rates: every finished one (required) and every one that
    will be missed (optional)."""
    return [s for s in whistle.summons if s.status in (SummonsStatus.DONE, SummonsStatus.MISSED)
            or (s.status == SummonsStatus.SENT and s.report_in_due_at and s.report_in_due_at < now)]


def _mark(text: str) -> Any:
    return int(text) if text.isdigit() else (text or None)


def ratings_from(form: SubmittedForm, state: FormState, summons: list[WhistleSummons]) -> list[dict[str, Any]]:
    """One rating per summons with any mark or comment given, and for every finished one."""
    ratings = []
    for s in summons:
        names = [f"rating_{s.id}_{p}" for p in (*RATING_POINTS, "comment")]
        for name in names:
            state.values[name] = form.get(name)
        if s.status == SummonsStatus.DONE or any(form.get(name) for name in names):
            ratings.append({"summons_id": s.id, **{p: _mark(form.get(f"rating_{s.id}_{p}")) for p in RATING_POINTS},
                            "comment": form.get(f"rating_{s.id}_comment") or None})
    return ratings


def has_reporter(db: Session, whistle: Whistle) -> bool:
    return whistle.case_id is not None and db.scalar(
        select(CaseReporter.id).where(CaseReporter.case_id == whistle.case_id).limit(1)) is not None


RATING_CHOICES = [("", "请选择")] + [(str(n), f"{n} 分") for n in range(5, 0, -1)]
RATING_POINT_LABELS = [(p, RATING_LABELS[p]) for p in RATING_POINTS]
