"""派遣调度 (dispatcher / shift lead): every case waiting for the district centre, the most
urgent deadline first — to file, to dispatch (with the duty matrix's suggestion and why),
returned, extension requests, to verify, to close, supervised — and what is overdue now.

The actions are the cases workbench's own forms (`/cases/{id}/act/{transition}`), opened in a
panel beside the queue; the queue refreshes itself every 30 seconds without touching it."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from gridgov import clock
from gridgov.auth.policy import Action
from gridgov.calendar import service as calendar_service
from gridgov.calendar.rules import TimeLimit, WorkingCalendar
from gridgov.cases import clocks, queries, service
from gridgov.cases.channels import list_channels
from gridgov.cases.clocks import ClockView
from gridgov.cases.models import Case, ExtensionRequest
from gridgov.cases.rules import STATUS_LABELS, CaseStatus, Node
from gridgov.catalog.schemas import DutyAnswer
from gridgov.config import Settings
from gridgov.errors import DomainError
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()

DispatchUser = Annotated[WebUser, page_for(Action.CASE_DISPATCH)]
ROW_TONES = {"overdue": "row-overdue", "due_soon": "row-soon"}


@dataclass(frozen=True)
class QueueRow:
    """A case in a queue with the running clock whose deadline comes first."""

    case: Case
    clock: ClockView | None

    @property
    def deadline(self) -> datetime | None:
        return self.clock.deadline_at if self.clock else None

    @property
    def tone(self) -> str:
        """The row's CSS class: overdue (red) or due soon (amber), from the server's clock."""
        return ROW_TONES.get(self.clock.state, "") if self.clock else ""


def first_running_clock(case: Case, *, now: datetime, calendar: WorkingCalendar) -> ClockView | None:
    running = [clocks.view(c, now=now, calendar=calendar) for c in case.clocks
               if c.finished_at is None and c.paused_at is None]
    return min(running, key=lambda v: v.deadline_at, default=None)


def queue_rows(db: Session, settings: Settings, cases: Iterable[Case]) -> list[QueueRow]:
    calendar = calendar_service.working_calendar(db, settings=settings)
    now = clock.utcnow()
    return [QueueRow(case, first_running_clock(case, now=now, calendar=calendar)) for case in cases]


@dataclass(frozen=True)
class Suggestion:
    answer: DutyAnswer | None
    problem: str | None  # why the duty matrix gives no answer (e.g. the type was retired)


@dataclass(frozen=True)
class ExtensionRow:
    row: QueueRow
    request: ExtensionRequest
    extra: str


@dataclass(frozen=True)
class OverdueLine:
    unit_name: str
    node_label: str
    count: int


def _suggestion(db: Session, case: Case) -> Suggestion:
    try:
        return Suggestion(service.suggest_unit(db, case=case), None)
    except DomainError as exc:
        return Suggestion(None, exc.detail)


def _units(db: Session, ids: Iterable[int | None]) -> dict[int, Unit]:
    wanted = {i for i in ids if i is not None}
    return {u.id: u for u in db.scalars(select(Unit).where(Unit.id.in_(wanted)))} if wanted else {}


def _overdue_summary(db: Session) -> list[OverdueLine]:
    """Running clocks past their deadline, per unit and node, the largest first."""
    rows = queries.overdue_now(db)
    units = _units(db, (unit_id for unit_id, _, _ in rows))
    lines = [OverdueLine(units[unit_id].name if unit_id in units else "区中心", Node(node).label, n)
             for unit_id, node, n in rows]
    return sorted(lines, key=lambda line: (-line.count, line.unit_name, line.node_label))


def _queue(db: Session, settings: Settings, user: WebUser) -> dict:
    """Every section of the dispatcher's queue, each sorted by its first deadline."""
    principal = user.principal

    def section(**filters) -> list[QueueRow]:
        cases = queries.by_deadline(db, principal=principal, filters=queries.CaseFilter(**filters))
        return queue_rows(db, settings, cases)

    sections = {
        "to_file": section(status=[CaseStatus.REPORTED]),
        "to_dispatch": section(status=[CaseStatus.FILED]),
        "returned": section(status=[CaseStatus.RETURNED]),
        "to_verify": section(status=[CaseStatus.HANDLED]),
        "to_close": section(status=[CaseStatus.VERIFIED]),
        "supervised": section(supervised=True),
    }
    pending = queries.pending_extensions(db, principal=principal)
    extension_rows = queue_rows(db, settings, (case for case, _ in pending))
    extensions = sorted(
        (ExtensionRow(row, request, str(TimeLimit(request.extra_value, request.extra_unit)))
         for row, (_, request) in zip(extension_rows, pending, strict=True)),
        key=lambda e: (e.row.deadline is None, e.row.deadline or e.request.requested_at))
    to_send = [r.case for r in (*sections["to_dispatch"], *sections["returned"])]
    overdue = _overdue_summary(db)
    shown = [r.case for rows in sections.values() for r in rows] + [e.row.case for e in extensions]
    return {
        **sections,
        "extensions": extensions,
        "suggestions": {case.id: _suggestion(db, case) for case in to_send},
        "return_reasons": queries.last_reasons(db, case_ids=[r.case.id for r in sections["returned"]],
                                               transition="return_to_district"),
        "units": _units(db, [c.holder_unit_id for c in shown]
                        + [e.request.requested_by_unit_id for e in extensions]),
        "overdue": overdue,
        "overdue_total": sum(line.count for line in overdue),
        "status_labels": STATUS_LABELS,
        "channel_names": {c.code: c.name for c in list_channels(db, include_inactive=True)},
    }


@router.get("/dispatch")
def dispatch_page(request: Request, db: SessionDep, settings: SettingsDep,
                  user: DispatchUser) -> Response:
    return render(request, "dispatch/page.html", _queue(db, settings, user), user=user)


@router.get("/dispatch/queue")
def dispatch_queue(request: Request, db: SessionDep, settings: SettingsDep,
                   user: DispatchUser) -> Response:
    """The queue alone, for the page's refresh every 30 seconds."""
    return render(request, "dispatch/_queue.html", _queue(db, settings, user), user=user)
