"""Intake (问题收集): one path for every channel, idempotent on (channel, reference)."""

import math
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.audit import service as audit
from gridgov.audit.rules import Actor
from gridgov.calendar import service as calendar_service
from gridgov.cases import attachments, clocks
from gridgov.cases.channels import get_channel
from gridgov.cases.models import Attachment, Case, CaseEvent, CaseNumberSequence, CaseReporter
from gridgov.cases.rules import OPEN_STATES, CaseStatus, Node, node_limit
from gridgov.cases.schemas import ReportIn
from gridgov.catalog import service as catalog
from gridgov.catalog.models import MatterTypeVersion
from gridgov.config import Settings
from gridgov.db import next_in_year
from gridgov.errors import InvalidInput
from gridgov.grid import service as grid
from gridgov.grid.service import GridLocation
from gridgov.org.models import Unit

TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
DUPLICATE_RADIUS_M = 150.0
DUPLICATE_WINDOW = timedelta(days=7)
_METRES_PER_DEGREE_LAT = 111_320.0


@dataclass(frozen=True)
class Reported:
    case: Case
    created: bool


def report(
    db: Session, *, settings: Settings, actor: Actor, data: ReportIn, reporter_user_id: int | None = None,
    photos: Sequence[bytes] = (),
) -> Reported:
    """File a report as a new case and commit, or return the case the same (channel, reference) made."""
    try:
        reported = apply_report(db, settings=settings, actor=actor, data=data,
                                reporter_user_id=reporter_user_id, photos=photos)
        db.commit()
    except IntegrityError:
        # A concurrent retry of the same report got there first: answer with its case.
        db.rollback()
        existing = _by_reference(db, data.channel, data.channel_ref) if data.channel_ref else None
        if existing is None:
            raise
        return Reported(existing, created=False)
    return reported


def apply_report(
    db: Session, *, settings: Settings, actor: Actor, data: ReportIn, reporter_user_id: int | None = None,
    photos: Sequence[bytes] = (),
) -> Reported:
    """`report` inside the caller's transaction (the caller commits)."""
    channel = get_channel(db, code=data.channel)
    if channel.requires_reference and not data.channel_ref:
        raise InvalidInput(f"{channel.name}的报件须带渠道编号", errors=[{"field": "channel_ref", "message": "必填"}])
    reference = data.channel_ref or uuid.uuid4().hex
    existing = _by_reference(db, data.channel, reference)
    if existing is not None:
        return Reported(existing, created=False)
    now = clock.utcnow()
    reported_at = data.reported_at or now
    if reported_at > now + timedelta(minutes=5):
        raise InvalidInput("报告时间不能晚于当前时间", errors=[{"field": "reported_at", "message": "在未来"}])
    place = (grid.locate_code(db, unit_grid_code=data.grid_code) if data.lng is None
             else grid.locate(db, lng=data.lng, lat=data.lat, crs=data.crs))
    matter = catalog.get_type(db, code=data.type_code) if data.type_code else None
    units = dict(db.execute(select(Unit.code, Unit.id).where(
        Unit.code.in_((place.street_code, place.community_code)))).all())
    if len(units) != 2:
        raise InvalidInput(f"网格 {place.unit_code} 所属的街道或社区不在组织机构中")
    case = _create(db, settings=settings, actor=actor, data=data, channel_code=channel.code,
                   reference=reference, reported_at=reported_at, now=now, place=place, matter=matter,
                   units=units, reporter_user_id=reporter_user_id, photos=photos)
    return Reported(case, created=True)


def _create(db: Session, *, settings: Settings, actor: Actor, data: ReportIn, channel_code: str,
            reference: str, reported_at: datetime, now: datetime, place: GridLocation,
            matter: MatterTypeVersion | None, units: dict[str, int], reporter_user_id: int | None,
            photos: Sequence[bytes]) -> Case:
    case = Case(
        number=_next_number(db, reported_at.year), tracking_code=_tracking_code(),
        channel_code=channel_code, channel_ref=reference, reported_at=reported_at,
        description=data.description, address=data.address, lng=place.lng, lat=place.lat,
        unit_grid_code=place.unit_code, basic_grid_code=place.basic_code, grid_version=place.grid_version,
        community_id=units[place.community_code], street_id=units[place.street_code],
        type_code=matter.code if matter else None, type_version_id=matter.id if matter else None,
        domain=matter.domain if matter else None, urgent=bool(matter and matter.urgent),
        status=CaseStatus.REPORTED, reporters=[], clocks=[],
    )
    db.add(case)
    db.flush()
    case.reporters.append(CaseReporter(
        original_case_id=case.id, channel_code=channel_code, channel_ref=reference,
        name=data.reporter_name, phone=data.reporter_phone, user_id=reporter_user_id,
        reported_at=reported_at))
    calendar = calendar_service.working_calendar(db, settings=settings)
    clocks.start(case, Node.INTAKE, unit_id=None, now=now, calendar=calendar,
                 limit=node_limit(Node.INTAKE, urgent=case.urgent, handling_limit=None))
    event = CaseEvent(case_id=case.id, transition="report", from_status=None, to_status=case.status,
                      actor_id=actor.id, actor_name=actor.name, role=actor.role, unit_id=actor.unit_id,
                      payload={"channel": channel_code, "channel_ref": reference}, occurred_at=now)
    db.add(event)
    db.flush()
    for content in photos:
        stored = attachments.store(settings.data_dir / "attachments", content, kind="report")
        db.add(Attachment(case_id=case.id, event_id=event.id, kind="report", sha256=stored.sha256,
                          media_type=stored.media_type, size=stored.size, uploaded_by=actor.name))
    audit.record(db, actor=actor, action="case.report", object_type="case", object_id=case.id,
                 after={"number": case.number, "channel": channel_code, "channel_ref": reference,
                        "unit_grid": case.unit_grid_code, "type": case.type_code})
    return case


def _by_reference(db: Session, channel: str, reference: str) -> Case | None:
    return db.scalar(select(Case).where(Case.channel_code == channel, Case.channel_ref == reference))


def _next_number(db: Session, year: int) -> str:
    """Year + a 7-digit sequence, unique: the year's counter row is bumped atomically."""
    return f"{year}{next_in_year(db, CaseNumberSequence, year):07d}"


def _tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Equirectangular distance: exact enough within a district (error far below a metre)."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    dx = (lng2 - lng1) * math.cos(mean_lat) * _METRES_PER_DEGREE_LAT
    dy = (lat2 - lat1) * _METRES_PER_DEGREE_LAT
    return math.hypot(dx, dy)


@dataclass(frozen=True)
class Duplicate:
    id: int
    number: str
    status: CaseStatus
    type_code: str | None
    description: str
    reported_at: datetime
    distance_m: float


DUPLICATE_CANDIDATES = 200  # the most recent open cases in the box are enough to rank


def likely_duplicates(db: Session, *, case: Case, limit: int = 5) -> list[Duplicate]:
    """Open cases nearby, reported in the last week, of the same type or domain (or untyped),
    the same type first, then the nearest."""
    lat_span = DUPLICATE_RADIUS_M / _METRES_PER_DEGREE_LAT
    lng_span = lat_span / math.cos(math.radians(case.lat))
    query = select(Case.id, Case.number, Case.status, Case.type_code, Case.description, Case.reported_at,
                   Case.lng, Case.lat).where(
        Case.id != case.id,
        Case.status.in_(OPEN_STATES),
        Case.reported_at >= case.reported_at - DUPLICATE_WINDOW,
        Case.lat.between(case.lat - lat_span, case.lat + lat_span),
        Case.lng.between(case.lng - lng_span, case.lng + lng_span),
    )
    if case.type_code is not None:
        query = query.where((Case.type_code == case.type_code) | (Case.domain == case.domain)
                            | Case.type_code.is_(None))
    rows = db.execute(query.order_by(Case.reported_at.desc()).limit(DUPLICATE_CANDIDATES))
    nearby = [Duplicate(r.id, r.number, CaseStatus(r.status), r.type_code, r.description, r.reported_at,
                        distance_m(case.lng, case.lat, r.lng, r.lat)) for r in rows]
    nearby = [d for d in nearby if d.distance_m <= DUPLICATE_RADIUS_M]
    nearby.sort(key=lambda d: (d.type_code != case.type_code, d.distance_m))
    return nearby[:limit]
