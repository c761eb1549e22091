"""The leaders' command centre (指挥驾驶舱): a map of Dongcheng coloured by case density or Gi*
hot spots, drilling down street → community → grid, and charts of trends, types, channels,
overdue and supervised cases and on-time closure rankings.

The page itself carries no figures; the browser fetches them from the compact JSON endpoints
under /dashboard/data/, each built on the analytics service (or the assessment's own case
sets) and counting only the cases the user may see. Answers are cached per process, per
request, scope and local date, with the data revision they were computed at (the latest case
event and the grid revision). An answer stays good while that revision stands; once the data
has moved on and the answer is older than `dashboard_max_age_seconds`, it is served once more
while a background thread recomputes it (stale while revalidate), so a page never waits for a
year's aggregation; every answer says when it was computed (`as_of`). With a maximum age of 0
every changed answer is recomputed before it is served.
"""

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.analytics import hotspots
from gridgov.analytics import service as analytics
from gridgov.analytics.rules import Dimension, Granularity, change, one_year_before
from gridgov.assessment import figures
from gridgov.auth.policy import Action, Principal
from gridgov.cases import queries
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.rules import OPEN_STATES
from gridgov.config import Settings
from gridgov.db import Database
from gridgov.errors import InvalidInput, NotFound
from gridgov.grid import service as grid
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()
log = logging.getLogger("gridgov.dashboard")
DASHBOARD_USER = page_for(Action.DASHBOARD_READ)

PERIODS = {"month": "本月", "30d": "近30天", "year": "本年"}
PeriodKey = Literal["month", "30d", "year"]
Level = Literal["street", "community", "unit"]
NOT_COUNTED = ("merged", "rejected")  # duplicates and refusals are not cases on the map
EVERY_GRID = 100_000  # no cut-off: the map shows every hot grid
RANKED_KINDS = {UnitKind.DEPARTMENT: "departments", UnitKind.STREET: "streets"}


def period_range(period: str, settings: Settings) -> tuple[date, date]:
    """The local dates (inclusive) of 本月, 近30天 or 本年, ending today."""
    end = analytics.today(settings)
    if period == "month":
        return end.replace(day=1), end
    if period == "year":
        return end.replace(month=1, day=1), end
    return end - timedelta(days=29), end


def root_area(db: Session, principal: Principal) -> Unit | None:
    """The street a street's user looks at; None (the whole district) for everyone else."""
    if principal.unit.kind is UnitKind.DISTRICT_CENTRE or principal.unit.street_id is None:
        return None
    return db.get(Unit, principal.unit.street_id)


@router.get("/dashboard")
def dashboard(request: Request, db: SessionDep, settings: SettingsDep, period: PeriodKey = "30d",
              user: WebUser = DASHBOARD_USER) -> Response:
    start, end = period_range(period, settings)
    root = root_area(db, user.principal)
    return render(request, "dashboard/index.html", {
        "periods": PERIODS, "period": period, "start": start, "end": end,
        "root": {"code": root.code, "name": root.name, "level": "community"} if root
        else {"code": None, "name": "东城区", "level": "street"},
    }, user=user)


# ---- answering data requests -------------------------------------------------------------

@dataclass(frozen=True)
class _Answer:
    body: bytes
    revision: tuple
    computed_at: datetime


class _AnswerCache:
    """Serialised answers, least recently used dropped first, and the keys being recomputed."""

    def __init__(self, size: int = 512):
        self._items: OrderedDict[tuple, _Answer] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self._refreshing: set[tuple] = set()

    def get(self, key: tuple) -> _Answer | None:
        with self._lock:
            answer = self._items.get(key)
            if answer is not None:
                self._items.move_to_end(key)
            return answer

    def put(self, key: tuple, answer: _Answer) -> None:
        with self._lock:
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def claim_refresh(self, key: tuple) -> bool:
        """True for the one caller that is to recompute `key` now."""
        with self._lock:
            if key in self._refreshing:
                return False
            self._refreshing.add(key)
            return True

    def release_refresh(self, key: tuple) -> None:
        with self._lock:
            self._refreshing.discard(key)


def _cache(request: Request) -> _AnswerCache:
    cache = getattr(request.app.state, "dashboard_cache", None)
    if cache is None:
        cache = request.app.state.dashboard_cache = _AnswerCache()
    return cache


def revision(db: Session) -> tuple:
    """Changes whenever a case moves (every transition writes a case event) or the grid changes."""
    return db.scalar(select(func.max(CaseEvent.id))), grid.revision_token(db)


def _computed(session: Session, compute: Callable[[Session], dict], revision_now: tuple) -> _Answer:
    result = {**compute(session), "as_of": clock.utcnow().isoformat()}
    body = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _Answer(body, revision_now, clock.utcnow())


def _refresh_in_background(database: Database, cache: _AnswerCache, key: tuple,
                           compute: Callable[[Session], dict], revision_now: tuple) -> None:
    def run() -> None:
        try:
            with database.read() as session:
                cache.put(key, _computed(session, compute, revision_now))
        except Exception:  # the stale answer stays; the next request tries again
            log.exception("dashboard answer %s not refreshed", key[0])
        finally:
            cache.release_refresh(key)

    threading.Thread(target=run, name="dashboard-refresh", daemon=True).start()


def _answer(request: Request, db: Session, settings: Settings, user: WebUser, params: tuple,
            compute: Callable[[Session], dict], *, live: bool = False) -> Response:
    """`compute(session)` as JSON, cached per request, scope and day (see the module's doc);
    `live` answers (open and overdue *now*) also move on with the minute."""
    principal = user.principal
    now = clock.utcnow()
    key = (request.url.path, params, principal.unit.id, tuple(sorted(principal.roles)),
           now.astimezone(settings.tz).date())
    cache = _cache(request)
    revision_now = revision(db) + ((now.replace(second=0, microsecond=0),) if live else ())
    answer = cache.get(key)
    stale = answer is not None and answer.revision != revision_now
    old = answer is not None and (now - answer.computed_at).total_seconds() >= settings.dashboard_max_age_seconds
    if answer is None or (stale and settings.dashboard_max_age_seconds == 0):
        answer = _computed(db, compute, revision_now)
        cache.put(key, answer)
    elif stale and old and cache.claim_refresh(key):
        _refresh_in_background(request.app.state.database, cache, key, compute, revision_now)
    return Response(answer.body, media_type="application/json", headers={"Cache-Control": "private, no-cache"})


def _range(period: str, settings: Settings):
    start, end = period_range(period, settings)
    return start, end, *analytics.local_range(start, end, settings)


def _unit_of(db: Session, code: str, kind: UnitKind) -> Unit:
    unit = db.scalar(select(Unit).where(Unit.code == code, Unit.kind == kind.value))
    if unit is None:
        raise NotFound(f"{kind.label} {code} 不存在")
    return unit


# ---- the map -----------------------------------------------------------------------------

def density(db: Session, *, settings: Settings, principal: Principal, period: str, level: str,
            parent: str | None) -> dict:
    """Cases reported in the period per street, per community of a street, or per unit grid of
    a community (merged and rejected reports left out)."""
    start, end, begin, finish = _range(period, settings)
    where = [queries.visible(principal), Case.reported_at >= begin, Case.reported_at < finish,
             Case.status.not_in(NOT_COUNTED)]
    if level == "street":
        column = Case.street_id
    elif parent is None:
        raise InvalidInput("须指定上级区域", errors=[{"field": "parent", "message": "必填"}])
    elif level == "community":
        column = Case.community_id
        where.append(Case.street_id == _unit_of(db, parent, UnitKind.STREET).id)
    else:
        column = Case.unit_grid_code
        where.append(Case.community_id == _unit_of(db, parent, UnitKind.COMMUNITY).id)
    counts = dict(db.execute(select(column, func.count()).where(*where).group_by(column)).all())
    if level != "unit" and counts:
        codes = dict(db.execute(select(Unit.id, Unit.code).where(Unit.id.in_(list(counts)))).all())
        counts = {codes[k]: n for k, n in counts.items()}
    return {"start": start.isoformat(), "end": end.isoformat(), "level": level, "parent": parent,
            "total": sum(counts.values()), "counts": counts}


@router.get("/dashboard/data/density")
def density_data(request: Request, db: SessionDep, settings: SettingsDep, user: WebUser = DASHBOARD_USER,
                 period: PeriodKey = "30d", level: Level = "street", parent: str | None = None) -> Response:
    return _answer(request, db, settings, user, (period, level, parent), lambda session: density(
        session, settings=settings, principal=user.principal, period=period, level=level, parent=parent))


def hot_spot_map(db: Session, *, settings: Settings, principal: Principal, period: str) -> dict:
    """Gi* hot-spot unit grids of the period (90 % confidence and above, the class judged on the
    normal approximation, so no permutations), and how many lie in each street and community."""
    start, end = period_range(period, settings)
    result = hotspots.hot_spots(db, settings=settings, principal=principal, start=start, end=end,
                                alpha=0.1, permutations=0, limit=EVERY_GRID)
    streets: dict[str, int] = {}
    communities: dict[str, int] = {}
    for spot in result.hot:
        streets[spot.street_code] = streets.get(spot.street_code, 0) + 1
        communities[spot.community_code] = communities.get(spot.community_code, 0) + 1
    return {"start": start.isoformat(), "end": end.isoformat(), "cases": result.cases, "grids": result.grids,
            "cold": result.cold, "street": streets, "community": communities,
            "unit": {s.unit_grid_code: {"z": s.z, "class": s.hot_spot.value, "label": s.hot_spot.label,
                                        "count": s.count} for s in result.hot}}


@router.get("/dashboard/data/hotspots")
def hotspot_data(request: Request, db: SessionDep, settings: SettingsDep, user: WebUser = DASHBOARD_USER,
                 period: PeriodKey = "30d") -> Response:
    return _answer(request, db, settings, user, (period,), lambda session: hot_spot_map(
        session, settings=settings, principal=user.principal, period=period))


# ---- the charts --------------------------------------------------------------------------

def summary(db: Session, *, settings: Settings, principal: Principal, period: str) -> dict:
    """The big numbers: reported (and a year before), closed in the period; open, overdue and
    supervised now."""
    start, end, begin, finish = _range(period, settings)
    before_begin, before_finish = analytics.local_range(one_year_before(start), one_year_before(end), settings)
    seen = queries.visible(principal)

    def reported(lo, hi) -> int:
        return db.scalar(select(func.count()).where(seen, Case.reported_at >= lo, Case.reported_at < hi,
                                                    Case.status.not_in(NOT_COUNTED)))
    now_reported, last_year = reported(begin, finish), reported(before_begin, before_finish)
    return {
        "start": start.isoformat(), "end": end.isoformat(),
        "reported": now_reported, "reported_last_year": last_year, "yoy": change(now_reported, last_year),
        "closed": db.scalar(select(func.count()).where(seen, Case.closed_at >= begin, Case.closed_at < finish)),
        "open": queries.count(db, principal=principal, filters=queries.CaseFilter(status=sorted(OPEN_STATES))),
        "overdue": queries.count(db, principal=principal, filters=queries.CaseFilter(overdue=True)),
        "supervised": queries.count(db, principal=principal, filters=queries.CaseFilter(supervised=True)),
    }


@router.get("/dashboard/data/summary")
def summary_data(request: Request, db: SessionDep, settings: SettingsDep, user: WebUser = DASHBOARD_USER,
                 period: PeriodKey = "30d") -> Response:
    return _answer(request, db, settings, user, (period,), lambda session: summary(
        session, settings=settings, principal=user.principal, period=period), live=True)


def trend(db: Session, *, settings: Settings, principal: Principal, period: str, granularity: Granularity) -> dict:
    start, end = period_range(period, settings)
    result = analytics.trends(db, settings=settings, principal=principal, start=start, end=end,
                              granularity=granularity)
    return {"granularity": granularity.value, "total": result.total, "last_year_total": result.last_year_total,
            "yoy": result.yoy, "labels": [p.bucket for p in result.series],
            "counts": [p.count for p in result.series], "last_year": [p.last_year for p in result.series],
            "changes": [p.yoy for p in result.series]}


@router.get("/dashboard/data/trends")
def trend_data(request: Request, db: SessionDep, settings: SettingsDep, user: WebUser = DASHBOARD_USER,
               period: PeriodKey = "30d", granularity: Granularity = Granularity.DAY) -> Response:
    return _answer(request, db, settings, user, (period, granularity.value), lambda session: trend(
        session, settings=settings, principal=user.principal, period=period, granularity=granularity))


def mix(db: Session, *, settings: Settings, principal: Principal, period: str) -> dict:
    """The ten most reported types and the channels, each with last year's count and the change."""
    start, end = period_range(period, settings)
    return {name: [{"code": d.key, "label": d.label or "未分类", "count": d.count, "last_year": d.last_year,
                    "yoy": d.yoy}
                   for d in analytics.top_values(db, settings=settings, principal=principal, start=start,
                                                 end=end, dimension=dimension, top=10)]
            for name, dimension in (("types", Dimension.TYPE), ("channels", Dimension.CHANNEL))}


@router.get("/dashboard/data/mix")
def mix_data(request: Request, db: SessionDep, settings: SettingsDep, user: WebUser = DASHBOARD_USER,
             period: PeriodKey = "30d") -> Response:
    return _answer(request, db, settings, user, (period,), lambda session: mix(
        session, settings=settings, principal=user.principal, period=period))


def rankings(db: Session, *, settings: Settings, period: str) -> dict:
    """On-time closure (按期结案率 = 按期结案 / 应结案件, the assessment's own case sets) of every
    department and street over the period, best first."""
    start, end, begin, finish = _range(period, settings)
    due = next(f for f in figures.FAMILIES if f.name == "due")
    dialect = db.get_bind().dialect.name
    figures.no_jit(db)
    sub = due.build(dialect, figures.Period(begin, finish, clock.utcnow())).subquery()
    tallies = db.execute(select(sub.c.top, func.count(), func.sum(sub.c.on_time)).group_by(sub.c.top)).all()
    units = {u.id: u for u in db.scalars(select(Unit).where(
        Unit.id.in_([t for t, _, _ in tallies if t is not None]),
        Unit.kind.in_([k.value for k in RANKED_KINDS])))}
    out: dict[str, list] = {name: [] for name in RANKED_KINDS.values()}
    for top, due_count, on_time in tallies:
        unit = units.get(top)
        if unit is not None:
            out[RANKED_KINDS[UnitKind(unit.kind)]].append({
                "code": unit.code, "name": unit.short_name or unit.name, "due": due_count,
                "on_time": int(on_time or 0), "rate": round(int(on_time or 0) / due_count, 4)})
    for rows in out.values():
        rows.sort(key=lambda r: (-r["rate"], -r["due"], r["code"]))
    return {"start": start.isoformat(), "end": end.isoformat(), **out}


@router.get("/dashboard/data/rankings")
def ranking_data(request: Request, db: SessionDep, settings: SettingsDep, user: WebUser = DASHBOARD_USER,
                 period: PeriodKey = "30d") -> Response:
    return _answer(request, db, settings, user, (period,),
                   lambda session: rankings(session, settings=settings, period=period))
