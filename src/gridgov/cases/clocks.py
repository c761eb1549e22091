"""Node clocks of a case: started, finished, paused, resumed and extended on transitions."""

from dataclasses import dataclass
from datetime import datetime

from gridgov.calendar.rules import DEFAULT_WARNING_FRACTION, LimitUnit, TimeLimit, WorkingCalendar
from gridgov.cases.models import Case, CaseClock
from gridgov.cases.rules import Node


def running_clock(case: Case, node: Node) -> CaseClock | None:
    return next((c for c in case.clocks if c.node == node and c.finished_at is None), None)


def start(case: Case, node: Node, *, unit_id: int | None, limit: TimeLimit, now: datetime,
          calendar: WorkingCalendar) -> dict:
    """The row of a fresh clock for `node`, to insert; a clock of the same node still running
    is finished first."""
    finish(case, (node,), now=now)
    return {"case_id": case.id, **opening(node, unit_id=unit_id, limit=limit, now=now, calendar=calendar)}


def opening(node: Node, *, unit_id: int | None, limit: TimeLimit, now: datetime,
            calendar: WorkingCalendar) -> dict:
    """The columns of a clock that starts now, as a row to insert."""
    return {"node": node, "unit_id": unit_id, "limit_value": limit.value, "limit_unit": limit.unit,
            "started_at": now, "deadline_at": calendar.deadline(now, limit), "extended": False}


def finish(case: Case, nodes: tuple[Node, ...], *, now: datetime) -> None:
    for clock in case.clocks:
        if clock.node in nodes and clock.finished_at is None:
            if clock.paused_at is None:
                clock.overdue = now > clock.deadline_at
            else:
                clock.overdue = clock.remaining is not None and clock.remaining < 0
            clock.finished_at = now
            clock.paused_at = None


def pause_all(case: Case, *, now: datetime, calendar: WorkingCalendar) -> None:
    """Stop every running clock, keeping what was left of each limit in its own unit."""
    for clock in case.clocks:
        if clock.finished_at is None and clock.paused_at is None:
            clock.remaining = calendar.elapsed(now, clock.deadline_at, LimitUnit(clock.limit_unit))
            clock.paused_at = now


def resume_all(case: Case, *, now: datetime, calendar: WorkingCalendar) -> None:
    """Restart paused clocks: each runs for what it had left; one already overdue stays so."""
    for clock in case.clocks:
        if clock.finished_at is None and clock.paused_at is not None:
            if clock.remaining is not None and clock.remaining > 0:
                clock.deadline_at = calendar.deadline(now, TimeLimit(clock.remaining, clock.limit_unit))
            clock.paused_at = None
            clock.remaining = None


def extend(clock: CaseClock, extra: TimeLimit, *, calendar: WorkingCalendar) -> None:
    clock.deadline_at = calendar.deadline(clock.deadline_at, extra)
    clock.extended = True


@dataclass(frozen=True)
class ClockView:
    node: Node
    unit_id: int | None
    started_at: datetime
    deadline_at: datetime
    limit: str
    state: str  # running | due_soon | overdue | paused | on_time | late
    fraction_used: float | None
    finished_at: datetime | None
    extended: bool


def view(clock: CaseClock, *, now: datetime, calendar: WorkingCalendar) -> ClockView:
    limit = TimeLimit(clock.limit_value, clock.limit_unit)
    fraction = None
    if clock.finished_at is not None:
        state = "late" if clock.overdue else "on_time"
    elif clock.paused_at is not None:
        state = "paused"
    else:
        fraction = calendar.fraction_used(clock.started_at, clock.deadline_at, now, limit.unit)
        state = "overdue" if now > clock.deadline_at else (
            "due_soon" if fraction >= DEFAULT_WARNING_FRACTION else "running")
    return ClockView(node=Node(clock.node), unit_id=clock.unit_id, started_at=clock.started_at,
                     deadline_at=clock.deadline_at, limit=str(limit), state=state,
                     fraction_used=fraction, finished_at=clock.finished_at, extended=clock.extended)
