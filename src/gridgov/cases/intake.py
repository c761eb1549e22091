"""Intake (问题收集): one path for every channel, idempotent on (channel, reference)."""

import functools
import math
import secrets
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

from sqlalchemy import Connection, Float, Integer, Select, String, and_, func, literal_column, select, true
from sqlalchemy import case as case_when
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.audit import service as audit
from gridgov.audit.rules import Actor
from gridgov.calendar import service as calendar_service
from gridgov.calendar.rules import WorkingCalendar
from gridgov.cases import attachments, clocks
from gridgov.cases.channels import get_channel
from gridgov.cases.models import (
    Attachment, Case, CaseClock, CaseEvent, CaseNumberSequence, CaseReporter, Channel,
)
from gridgov.cases.rules import OPEN_STATES, CaseStatus, Node, node_limit
from gridgov.cases.schemas import ReportIn
from gridgov.catalog import service as catalog
from gridgov.catalog.models import MatterTypeVersion
from gridgov.config import Settings
from gridgov.db import ParameterRows, UTCDateTime, insert_rows, next_in_year, rows_matching
from gridgov.errors import DomainError, InvalidInput
from gridgov.grid import service as grid
from gridgov.grid.service import GridLocation, GridSnapshot
from gridgov.observability import current_request_id
from gridgov.org.models import Unit

TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I; 32 letters, so byte % 32 is unbiased
DUPLICATE_RADIUS_M = 150.0
DUPLICATE_WINDOW = timedelta(days=7)
_METRES_PER_DEGREE_LAT = 111_320.0


@dataclass(frozen=True)
class Reported:
    case: Case
    created: bool


@dataclass(frozen=True)
class Placed:
    """A report checked and located, ready to be written; nothing of it is in the database yet."""

    actor: Actor
    data: ReportIn
    channel_code: str
    reference: str
    reported_at: datetime
    place: GridLocation
    street_id: int
    community_id: int
    matter: MatterTypeVersion | None
    reporter_user_id: int | None = None
    request_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.channel_code, self.reference


class NewRows(NamedTuple):
    """The rows a new case was written with."""

    case: dict
    reporter: dict
    clock: dict


@dataclass(frozen=True)
class Written:
    case_id: int
    created: bool
    event_id: int | None = None  # the new case's report event (photos hang on it)
    rows: NewRows | None = None

    def snapshot(self) -> SimpleNamespace | None:
        """The new case as written, with its reporter and intake clock: enough to answer the
        reporter without reading the case back. A plain record with a Case's attributes (every
        column, reporters, clocks, assignments), not an ORM entity, which would cost ten times
        as much to build and belong to no session anyway."""
        if self.rows is None:
            return None
        case, reporter, clock_row = self.rows
        return SimpleNamespace(**_UNSET[Case] | case | {"id": self.case_id}, assignments=[],
                               reporters=[SimpleNamespace(**_UNSET[CaseReporter] | reporter)],
                               clocks=[SimpleNamespace(**_UNSET[CaseClock] | clock_row)])


# What a column not in the written rows holds: its scalar default, else nothing.
_UNSET = {model: {column.key: column.default.arg if column.default is not None and column.default.is_scalar else None
                  for column in model.__table__.columns} for model in (Case, CaseReporter, CaseClock)}


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
        existing = by_reference(db, data.channel, data.channel_ref) if data.channel_ref else None
        if existing is None:
            raise
        return Reported(existing, created=False)
    return reported


def apply_report(
    db: Session, *, settings: Settings, actor: Actor, data: ReportIn, reporter_user_id: int | None = None,
    photos: Sequence[bytes] = (),
) -> Reported:
    """`report` inside the caller's transaction (the caller commits)."""
    if data.channel_ref and (existing := by_reference(db, data.channel, data.channel_ref)) is not None:
        return Reported(existing, created=False)
    placed = place_report(db, actor=actor, data=data, reporter_user_id=reporter_user_id)
    [written] = write(db, settings=settings, reports=[placed])
    if written.created:
        for content in photos:
            stored = attachments.store(settings.data_dir / "attachments", content, kind="report")
            db.add(Attachment(case_id=written.case_id, event_id=written.event_id, kind="report",
                              sha256=stored.sha256, media_type=stored.media_type, size=stored.size,
                              uploaded_by=actor.name))
    return Reported(db.get(Case, written.case_id), created=written.created)


def place_report(db: Session, *, actor: Actor, data: ReportIn, reporter_user_id: int | None = None) -> Placed:
    """Check a report and locate it (reads only): the channel, its reference, the time, the place
    (a point outside the district is refused), the type, the street and community."""
    return place_reports(db, actor=actor, reports=[data], reporter_user_id=reporter_user_id)[0]


def place_reports(db: Session, *, actor: Actor, reports: Sequence[ReportIn],
                  reporter_user_id: int | None = None) -> list[Placed]:
    """`place_report` for many reports, reading the channels, grid, types and units they share
    once; the first report refused refuses them all."""
    placed = place_each(db, [Report(actor, data, reporter_user_id) for data in reports])
    for outcome in placed:
        if isinstance(outcome, DomainError):
            raise outcome
    return placed


class Report(NamedTuple):
    """A report as its sender gave it, and who sent it."""

    actor: Actor
    data: ReportIn
    reporter_user_id: int | None = None
    request_id: str | None = None


def place_each(db: Session, reports: Sequence[Report]) -> list[Placed | DomainError]:
    """Place each report on its own — each is placed or refused with its own error — reading
    the channels, grid, types and units the reports share once."""
    now = clock.utcnow()
    channels = _memo(lambda code: get_channel(db, code=code))
    matters = _memo(lambda code: catalog.get_type(db, code=code))
    snapshot = grid.grid_snapshot(db) if any(r.data.lng is not None for r in reports) else None
    checked: list[tuple[Report, Channel, datetime, GridLocation] | DomainError] = []
    for report in reports:
        try:
            checked.append(_check(db, report, channels, matters, snapshot, now))
        except DomainError as refusal:
            checked.append(refusal)
    places = [c[3] for c in checked if not isinstance(c, DomainError)]
    codes = {code for place in places for code in (place.street_code, place.community_code)}
    units = dict(rows_matching(db, (Unit.code, Unit.id), Unit.code, codes))
    placed: list[Placed | DomainError] = []
    for c in checked:
        if isinstance(c, DomainError):
            placed.append(c)
            continue
        report, channel, reported_at, place = c
        if place.street_code not in units or place.community_code not in units:
            placed.append(InvalidInput(f"网格 {place.unit_code} 所属的街道或社区不在组织机构中"))
            continue
        data = report.data
        placed.append(Placed(
            actor=report.actor, data=data, channel_code=channel.code,
            reference=data.channel_ref or uuid.uuid4().hex, reported_at=reported_at, place=place,
            street_id=units[place.street_code], community_id=units[place.community_code],
            matter=matters(data.type_code) if data.type_code else None,
            reporter_user_id=report.reporter_user_id, request_id=report.request_id or current_request_id()))
    return placed


def _check(db: Session, report: Report, channels, matters, snapshot: GridSnapshot | None,
           now: datetime) -> tuple[Report, Channel, datetime, GridLocation]:
    data = report.data
    channel = channels(data.channel)
    if channel.requires_reference and not data.channel_ref:
        raise InvalidInput(f"{channel.name}的报件须带渠道编号", errors=[{"field": "channel_ref", "message": "必填"}])
    reported_at = data.reported_at or now
    if reported_at > now + timedelta(minutes=5):
        raise InvalidInput("报告时间不能晚于当前时间", errors=[{"field": "reported_at", "message": "在未来"}])
    place = (grid.locate_code(db, unit_grid_code=data.grid_code) if data.lng is None
             else snapshot.locate(data.lng, data.lat, data.crs))
    if data.type_code:
        matters(data.type_code)
    return report, channel, reported_at, place


def _memo(look_up):
    """`look_up` remembered per key, refusals included: a batch asks for each channel or type once."""
    found: dict = {}

    def remembered(key):
        if key not in found:
            try:
                found[key] = look_up(key)
            except DomainError as refusal:
                found[key] = refusal
        if isinstance(found[key], DomainError):
            raise found[key]
        return found[key]

    return remembered


def write(db: Session, *, settings: Settings, reports: Sequence[Placed], calendar: WorkingCalendar | None = None,
          looked_up: bool = False) -> list[Written]:
    """Write placed reports as new cases in the caller's transaction, one multi-row INSERT per
    table for the whole batch; a (channel, reference) already in the database, or earlier in
    the batch, answers with that case instead (created False).

    `looked_up`: the caller has just found none of the references in the database (one written
    since by someone else is refused by the unique index: IntegrityError)."""
    known = {} if looked_up else case_ids_by_reference(db, {r.key for r in reports})
    fresh: dict[tuple[str, str], Placed] = {}
    for r in reports:
        if r.key not in known:
            fresh.setdefault(r.key, r)
    calendar = calendar or calendar_service.working_calendar(db, settings=settings)
    new = dict(zip(fresh, _write_new(db, calendar=calendar, reports=list(fresh.values())), strict=True))
    case_ids = known | {key: w.case_id for key, w in new.items()}
    return [new[r.key] if fresh.get(r.key) is r else Written(case_ids[r.key], created=False) for r in reports]


def _write_new(db: Session, *, calendar: WorkingCalendar, reports: Sequence[Placed]) -> list[Written]:
    if not reports:
        return []
    now = clock.utcnow()
    numbers = _numbers(db, reports)
    case_rows = [_case_row(r, number) | {"created_at": now} for r, number in zip(reports, numbers, strict=True)]
    conn = db.connection()  # Core statements: the ORM's per-row bookkeeping is most of an insert's cost
    ids = _inserted_ids(conn, Case, case_rows, key="number")
    reporter_rows, clock_rows, event_rows = [], [], []
    for r, case_id in zip(reports, ids, strict=True):
        reporter_rows.append({
            "case_id": case_id, "original_case_id": case_id, "channel_code": r.channel_code,
            "channel_ref": r.reference, "name": r.data.reporter_name, "phone": r.data.reporter_phone,
            "user_id": r.reporter_user_id, "reported_at": r.reported_at})
        clock_rows.append({"case_id": case_id, **clocks.opening(
            Node.INTAKE, unit_id=None, now=now, calendar=calendar,
            limit=node_limit(Node.INTAKE, urgent=bool(r.matter and r.matter.urgent), handling_limit=None))})
        event_rows.append({
            "case_id": case_id, "transition": "report", "from_status": None, "to_status": CaseStatus.REPORTED,
            "actor_id": r.actor.id, "actor_name": r.actor.name, "role": r.actor.role, "unit_id": r.actor.unit_id,
            "payload": {"channel": r.channel_code, "channel_ref": r.reference}, "occurred_at": now})
    insert_rows(conn, CaseReporter.__table__, reporter_rows)
    insert_rows(conn, CaseClock.__table__, clock_rows)
    event_ids = _inserted_ids(conn, CaseEvent, event_rows, key="case_id")  # one report event a case
    audit.record_many(db, [audit.Entry(
        r.actor, "case.report", "case", case_id, request_id=r.request_id,
        after={"number": row["number"], "channel": r.channel_code, "channel_ref": r.reference,
               "unit_grid": r.place.unit_code, "type": row["type_code"]})
        for r, row, case_id in zip(reports, case_rows, ids, strict=True)])
    return [Written(case_id, True, event_id, NewRows(*rows))
            for case_id, event_id, *rows in zip(ids, event_ids, case_rows, reporter_rows, clock_rows, strict=True)]


def _inserted_ids(conn: Connection, model: type, rows: list[dict], *, key: str) -> list[int]:
    """Insert `rows` into `model`'s table with one statement and return the new ids in the
    order of the rows, matched on `key`, a column unique among them: RETURNING's order is not
    promised (SQLAlchemy would otherwise insert row by row on SQLite to keep it)."""
    new = dict(insert_rows(conn, model.__table__, rows, returning=(key, "id")).all())
    return [new[row[key]] for row in rows]


def _case_row(r: Placed, number: str) -> dict:
    matter, place = r.matter, r.place
    return {
        "number": number, "tracking_code": _tracking_code(), "channel_code": r.channel_code,
        "channel_ref": r.reference, "reported_at": r.reported_at, "description": r.data.description,
        "address": r.data.address, "lng": place.lng, "lat": place.lat, "unit_grid_code": place.unit_code,
        "basic_grid_code": place.basic_code, "grid_version": place.grid_version,
        "community_id": r.community_id, "street_id": r.street_id,
        "type_code": matter.code if matter else None, "type_version_id": matter.id if matter else None,
        "domain": matter.domain if matter else None, "urgent": bool(matter and matter.urgent),
        "status": CaseStatus.REPORTED, "supervised": False, "version": 1,
    }


def by_reference(db: Session, channel: str, reference: str) -> Case | None:
    return db.scalar(select(Case).where(Case.channel_code == channel, Case.channel_ref == reference))


def case_ids_by_reference(db: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The cases already made by these (channel, reference) pairs: the pairs joined against the
    unique index, a lookup of both columns each, whatever the planner knows of the table (a
    list of references under one channel was read on PostgreSQL as every case of the channel,
    filtered)."""
    if not keys:
        return {}
    dialect = db.get_bind().dialect.name
    query = _reference_query(_REFERENCES.size(dialect, len(keys)), dialect)
    rows = db.execute(query, _REFERENCES.parameters(dialect, sorted(keys)))
    return {(channel, reference): case_id for channel, reference, case_id in rows}


_REFERENCES = ParameterRows("refs", {"channel_code": String, "channel_ref": String})


@functools.cache
def _reference_query(size: int, dialect: str) -> Select:
    refs = _REFERENCES.table(dialect, size)
    return select(Case.channel_code, Case.channel_ref, Case.id).join_from(
        refs, Case, and_(Case.channel_code == refs.c.channel_code, Case.channel_ref == refs.c.channel_ref))


def _numbers(db: Session, reports: Sequence[Placed]) -> list[str]:
    """Year + a 7-digit sequence for each report, unique: each year's counter row is bumped
    once, atomically, by the number of its reports."""
    years = [r.reported_at.year for r in reports]
    taken = {year: next_in_year(db, CaseNumberSequence, year, count=n) - n
             for year, n in sorted(Counter(years).items())}
    numbers = []
    for year in years:
        taken[year] += 1
        numbers.append(f"{year}{taken[year]:07d}")
    return numbers


def _tracking_code() -> str:
    return "".join(TRACKING_ALPHABET[byte % len(TRACKING_ALPHABET)] for byte in secrets.token_bytes(10))


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


def likely_duplicates(db: Session, *, case: Case, limit: int = 5) -> list[Duplicate]:
    """Open cases nearby, reported in the week before it, of the same type or domain (or
    untyped), the same type first, then the nearest, then the newest."""
    return likely_duplicates_each(db, cases=[case], limit=limit)[0]


def likely_duplicates_each(db: Session, *, cases: Sequence[Case], limit: int = 5) -> list[list[Duplicate]]:
    """`likely_duplicates` of each case, found and ranked with one query for all of them: each
    case's map box, week and type joined against the open cases, its nearest `limit` kept.
    Distances are measured in the database on the equirectangular projection at the case's
    own latitude (within the radius it differs from `distance_m` by millimetres), squared, so
    that the ranking needs nothing but arithmetic on either backend."""
    if not cases:
        return []
    lat_span = DUPLICATE_RADIUS_M / _METRES_PER_DEGREE_LAT
    probes = []
    for index, case in enumerate(cases):
        metres_per_lng = math.cos(math.radians(case.lat)) * _METRES_PER_DEGREE_LAT
        lng_span = DUPLICATE_RADIUS_M / metres_per_lng
        probes.append((index, case.id, case.lat, case.lng, metres_per_lng, case.lat - lat_span, case.lat + lat_span,
                       case.lng - lng_span, case.lng + lng_span, case.reported_at - DUPLICATE_WINDOW,
                       case.type_code, case.domain))
    dialect = db.get_bind().dialect.name
    query = _duplicates_query(_PROBES.size(dialect, len(probes)), dialect, limit)
    found: list[list[Duplicate]] = [[] for _ in cases]
    for r in db.execute(query, _PROBES.parameters(dialect, probes)):
        found[r.probe].append(Duplicate(r.id, r.number, CaseStatus(r.status), r.type_code, r.description,
                                        r.reported_at, math.sqrt(r.distance_squared)))
    return found


_PROBES = ParameterRows("probes", {
    "probe": Integer, "case_id": Integer, "lat": Float, "lng": Float, "metres_per_lng": Float,
    "lat_lo": Float, "lat_hi": Float, "lng_lo": Float, "lng_hi": Float, "since": UTCDateTime(),
    "type_code": String, "domain": String})
_DUPLICATE_COLUMNS = (Case.id, Case.number, Case.status, Case.type_code, Case.description, Case.reported_at)


@functools.cache
def _duplicates_query(size: int, dialect: str, limit: int) -> Select:
    """Each probe's nearest `limit` open cases in its box and week, of its type or domain, in
    their order: the same type first, then the nearest, then the newest."""
    rows = _PROBES.table(dialect, size)
    in_box = Case.lat.between(rows.c.lat_lo, rows.c.lat_hi)
    if dialect == "sqlite":
        # Without fresh statistics SQLite's planner prefers the (status, reported_at) index and
        # walks every open case of the week (30 ms at 20,000 of them); the map box is the
        # selective part (0.5 ms), and likelihood() says so.
        in_box = func.likelihood(in_box, literal_column("0.001"))
    east = (Case.lng - rows.c.lng) * rows.c.metres_per_lng
    north = (Case.lat - rows.c.lat) * _METRES_PER_DEGREE_LAT
    distance_squared = (east * east + north * north).label("distance_squared")
    near = and_(
        in_box,
        Case.lng.between(rows.c.lng_lo, rows.c.lng_hi),
        Case.id != func.coalesce(rows.c.case_id, -1),
        Case.status.in_(OPEN_STATES),
        Case.reported_at >= rows.c.since,
        rows.c.type_code.is_(None) | (Case.type_code == rows.c.type_code) | (Case.domain == rows.c.domain)
        | Case.type_code.is_(None),
        distance_squared <= DUPLICATE_RADIUS_M ** 2,
    )
    ranking = (case_when((Case.type_code.is_not_distinct_from(rows.c.type_code), 0), else_=1), distance_squared,
               Case.id.desc())
    columns = (*_DUPLICATE_COLUMNS, distance_squared)
    if dialect == "postgresql":
        # A lateral subquery per probe: an index range scan of its own box, whatever the
        # statistics of a fast-growing table say (a stale estimate joins every open case).
        nearest = select(*columns).where(near).order_by(*ranking).limit(limit).lateral()
        return select(rows.c.probe, nearest).join_from(rows, nearest, true())
    rank = func.row_number().over(partition_by=rows.c.probe, order_by=ranking).label("rank")
    ranked = select(rows.c.probe, *columns, rank).join_from(rows, Case, near).subquery()
    return select(*(c for c in ranked.c if c.key != "rank")).where(ranked.c.rank <= limit).order_by(
        ranked.c.probe, ranked.c.rank)
