"""Cases as their readers see them: personal data masked unless the policy allows it."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.auth.policy import Action, Principal, decide, mask_name, mask_phone
from gridgov.calendar.rules import WorkingCalendar
from gridgov.cases import clocks
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.rules import TRANSITIONS, CaseStatus
from gridgov.cases.intake import likely_duplicates_each
from gridgov.cases.schemas import CaseOut, ClockOut, DuplicateOut, EventOut, PublicCaseOut, ReporterOut
from gridgov.cases.service import target_of
from gridgov.db import rows_matching
from gridgov.org.models import Unit


def _codes(db: Session, ids: set[int | None], known: dict[int, str] | None = None) -> dict[int, str]:
    known = known or {}
    wanted = {i for i in ids if i is not None and i not in known}
    return known | dict(rows_matching(db, (Unit.id, Unit.code), Unit.id, wanted))


def case_out(db: Session, case: Case, *, principal: Principal | None, now: datetime,
             calendar: WorkingCalendar) -> CaseOut:
    """principal None: a trusted internal caller (personal data shown)."""
    return cases_out(db, [(case, principal)], now=now, calendar=calendar)[0]


def cases_out(db: Session, cases: Sequence[tuple[Case, Principal | None]], *, now: datetime,
              calendar: WorkingCalendar, unit_codes: dict[int, str] | None = None) -> list[CaseOut]:
    """`case_out` for many cases, each as its reader sees it, with one read of the units they name
    (none when the caller knows their codes)."""
    codes = _codes(db, {unit_id for case, _ in cases for unit_id in (
        case.community_id, case.street_id, case.holder_unit_id, case.responsible_unit_id,
        *(c.unit_id for c in case.clocks))}, unit_codes)
    return [_case_out(db, case, principal, codes, now, calendar) for case, principal in cases]


def _case_out(db: Session, case: Case, principal: Principal | None, codes: dict[int, str], now: datetime,
              calendar: WorkingCalendar) -> CaseOut:
    show_personal = principal is None or decide(
        principal, Action.PERSONAL_DATA_READ, target_of(db, case)).allowed
    reporters = [
        ReporterOut(name=r.name if show_personal else mask_name(r.name),
                    phone=r.phone if show_personal else mask_phone(r.phone),
                    channel=r.channel_code, channel_ref=r.channel_ref, reported_at=r.reported_at)
        for r in case.reporters
    ]
    clock_views = []
    for clock in case.clocks:
        v = clocks.view(clock, now=now, calendar=calendar)
        clock_views.append(ClockOut(
            node=v.node, node_label=v.node.label, unit_code=codes.get(v.unit_id), started_at=v.started_at,
            deadline_at=v.deadline_at, limit=v.limit, state=v.state, fraction_used=v.fraction_used,
            finished_at=v.finished_at, extended=v.extended))
    status = CaseStatus(case.status)
    return CaseOut(
        id=case.id, number=case.number, tracking_code=case.tracking_code, channel=case.channel_code,
        channel_ref=case.channel_ref, status=status, status_label=status.label, grade=case.grade,
        urgent=case.urgent, supervised=case.supervised, type_code=case.type_code, domain=case.domain,
        description=case.description, address=case.address, lng=case.lng, lat=case.lat,
        unit_grid_code=case.unit_grid_code, basic_grid_code=case.basic_grid_code,
        community_code=codes[case.community_id], street_code=codes[case.street_id],
        holder_unit_code=codes.get(case.holder_unit_id), responsible_unit_code=codes.get(case.responsible_unit_id),
        reported_at=case.reported_at, closed_at=case.closed_at, close_kind=case.close_kind,
        version=case.version, reporters=reporters, clocks=clock_views,
    )


def duplicates_out(db: Session, case: Case) -> list[DuplicateOut]:
    return duplicates_each(db, [case])[0]


def duplicates_each(db: Session, cases: Sequence[Case]) -> list[list[DuplicateOut]]:
    """Each case's likely duplicates, found with one query."""
    return [[DuplicateOut(id=d.id, number=d.number, status=d.status, type_code=d.type_code, description=d.description,
                          distance_m=round(d.distance_m, 1), reported_at=d.reported_at) for d in found]
            for found in likely_duplicates_each(db, cases=cases)]


def events_out(db: Session, case: Case) -> list[EventOut]:
    events = list(db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
    codes = _codes(db, {e.unit_id for e in events} | {e.target_unit_id for e in events})
    return [EventOut(
        id=e.id, transition=e.transition, transition_label=_label(e.transition),
        from_status=e.from_status, to_status=e.to_status, actor_name=e.actor_name, role=e.role,
        unit_code=codes.get(e.unit_id), target_unit_code=codes.get(e.target_unit_id), reason=e.reason,
        payload=e.payload or {}, occurred_at=e.occurred_at) for e in events]


def _label(transition: str) -> str:
    return TRANSITIONS[transition].label if transition in TRANSITIONS else "上报"


def public_out(db: Session, case: Case) -> PublicCaseOut:
    """The tracking page: the steps and their times, nobody's name, phone or unit staff."""
    events = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    progress = [{"step": _label(e.transition), "status": CaseStatus(e.to_status).label, "at": e.occurred_at}
                for e in events]
    return PublicCaseOut(tracking_code=case.tracking_code, number=case.number,
                         status_label=CaseStatus(case.status).label, description=case.description,
                         address=case.address, reported_at=case.reported_at, closed_at=case.closed_at,
                         progress=progress)
