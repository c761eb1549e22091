"""Analysis and judgement (分析研判) and the ledgers (台账); for leaders, dispatchers and streets."""

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from gridgov.analytics import hotspots as hotspot_service
from gridgov.analytics import ledgers as ledger_service
from gridgov.analytics import service
from gridgov.analytics.rules import Dimension, Granularity
from gridgov.auth.deps import Authorization, require
from gridgov.auth.policy import Action
from gridgov.errors import NotFound
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics 分析研判"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEDGER_NAMES = ("forced", "multi_transfer", "multi_transfer_forced", "stalled", "supervised")


def _default_range(settings, start: date | None, end: date | None, days: int = 30) -> tuple[date, date]:
    end = end or service.today(settings)
    return start or end - timedelta(days=days - 1), end


def _street_id(db, code: str | None) -> int | None:
    if code is None:
        return None
    street_id = db.scalar(select(Unit.id).where(Unit.code == code, Unit.kind == "street"))
    if street_id is None:
        raise NotFound(f"街道 {code} 不存在")
    return street_id


@router.get("/trends")
def trends(db: SessionDep, settings: SettingsDep, start: date | None = None, end: date | None = None,
           granularity: Granularity = Granularity.DAY, dimension: Dimension | None = None,
           top: int = Query(default=10, ge=1, le=100), street: str | None = None, domain: str | None = None,
           type_code: str | None = None, channel: str | None = None,
           auth: Authorization = require(Action.DASHBOARD_READ)) -> dict[str, Any]:
    """Cases reported per day / week (Monday) / month in local time, with the same bucket a year
    before and the change (yoy); by a dimension, the top values with their own series."""
    start, end = _default_range(settings, start, end)
    result = service.trends(db, settings=settings, principal=auth.principal, start=start, end=end,
                            granularity=granularity, dimension=dimension, top=top,
                            filters={"street_id": _street_id(db, street), "domain": domain,
                                     "type_code": type_code, "channel": channel})
    return asdict(result)


@router.get("/hotspots")
def hotspots(db: SessionDep, settings: SettingsDep, start: date | None = None, end: date | None = None,
             type_code: str | None = None, domain: str | None = None,
             alpha: float = Query(default=0.05, gt=0, le=0.1),
             permutations: int = Query(default=999, ge=0, le=9999),
             limit: int = Query(default=200, ge=1, le=2322),
             auth: Authorization = require(Action.DASHBOARD_READ)) -> dict[str, Any]:
    """Hot-spot unit grids: Getis-Ord Gi* over case counts per grid (Queen contiguity), z-scores
    and p-values (pseudo p from `permutations`, else the normal approximation)."""
    start, end = _default_range(settings, start, end, days=90)
    result = hotspot_service.hot_spots(db, settings=settings, principal=auth.principal, start=start, end=end,
                                       type_code=type_code, domain=domain, alpha=alpha, permutations=permutations,
                                       limit=limit)
    out = asdict(result)
    for spot, item in zip(result.hot, out["hot"], strict=True):
        item["label"] = spot.hot_spot.label
    return out


@router.get("/recurring")
def recurring(db: SessionDep, settings: SettingsDep, start: date | None = None, end: date | None = None,
              min_count: int = Query(default=3, ge=2, le=1000), limit: int = Query(default=100, ge=1, le=1000),
              auth: Authorization = require(Action.DASHBOARD_READ)) -> list[dict[str, Any]]:
    """Places where the same type comes back again and again: same unit grid and type, ≥ min_count cases."""
    start, end = _default_range(settings, start, end, days=90)
    return [asdict(r) for r in service.recurring(db, settings=settings, principal=auth.principal, start=start,
                                                 end=end, min_count=min_count, limit=limit)]


@router.get("/types/slowest")
def slowest_types(db: SessionDep, settings: SettingsDep, start: date | None = None, end: date | None = None,
                  min_cases: int = Query(default=5, ge=1), limit: int = Query(default=20, ge=1, le=200),
                  auth: Authorization = require(Action.DASHBOARD_READ)) -> list[dict[str, Any]]:
    """Types by average hours from dispatch to handling report (value) and their late share (rate)."""
    start, end = _default_range(settings, start, end, days=90)
    return [asdict(t) for t in service.slowest_types(db, settings=settings, principal=auth.principal,
                                                     start=start, end=end, min_cases=min_cases, limit=limit)]


@router.get("/types/most-returned")
def most_returned_types(db: SessionDep, settings: SettingsDep, start: date | None = None,
                        end: date | None = None, min_cases: int = Query(default=5, ge=1),
                        limit: int = Query(default=20, ge=1, le=200),
                        auth: Authorization = require(Action.DASHBOARD_READ)) -> list[dict[str, Any]]:
    """Types by returns of their dispatches (value) and the return rate (rate)."""
    start, end = _default_range(settings, start, end, days=90)
    return [asdict(t) for t in service.most_returned_types(db, settings=settings, principal=auth.principal,
                                                           start=start, end=end, min_cases=min_cases, limit=limit)]


@router.get("/types/{type_code}/suggestion")
def type_suggestion(type_code: str, db: SessionDep, settings: SettingsDep, start: date | None = None,
                    end: date | None = None, percentile: float = Query(default=90, ge=50, le=99.9),
                    street: str | None = None,
                    auth: Authorization = require(Action.DASHBOARD_READ)) -> dict[str, Any]:
    """A time limit from the data (the percentile of actual handling times, in the type's unit) and
    the unit that most often closed the type on time without a return."""
    start, end = _default_range(settings, start, end, days=365)
    s = service.suggest(db, settings=settings, principal=auth.principal, type_code=type_code, start=start,
                        end=end, q=percentile, street_code=street)
    out = asdict(s)
    out["current_limit"] = {"value": s.current_limit.value, "unit": s.current_limit.unit.value,
                            "text": str(s.current_limit)}
    out["suggested_limit"] = None if s.suggested_limit is None else {
        "value": s.suggested_limit.value, "unit": s.suggested_limit.unit.value, "text": str(s.suggested_limit)}
    return out


def _ledger(db, settings, principal, name: str, start: date | None, end: date | None, days: int,
            min_transfers: int, state: str) -> ledger_service.Ledger:
    if name not in LEDGER_NAMES:
        raise NotFound(f"没有名为 {name} 的台账（{'、'.join(LEDGER_NAMES)}）")
    start, end = _default_range(settings, start, end, days=365)
    if name == "forced":
        return ledger_service.forced_closures(db, settings=settings, principal=principal, start=start, end=end)
    if name in ("multi_transfer", "multi_transfer_forced"):
        return ledger_service.multi_transfer(db, settings=settings, principal=principal, start=start, end=end,
                                             min_transfers=min_transfers,
                                             forced_only=name == "multi_transfer_forced")
    if name == "stalled":
        return ledger_service.stalled(db, settings=settings, principal=principal, days=days)
    return ledger_service.supervised(db, settings=settings, principal=principal, state=state)


@router.get("/ledgers/{name}")
def ledger(name: str, db: SessionDep, settings: SettingsDep, start: date | None = None, end: date | None = None,
           days: int = Query(default=30, ge=1, le=3650), min_transfers: int = Query(default=3, ge=2, le=100),
           state: str = "all", auth: Authorization = require(Action.DASHBOARD_READ)) -> dict[str, Any]:
    """forced (强制结案), multi_transfer / multi_transfer_forced (多次流转, ≥ min_transfers),
    stalled (长期滞留, no movement for `days`), supervised (挂账督办, state open|cleared|all)."""
    result = _ledger(db, settings, auth.principal, name, start, end, days, min_transfers, state)
    return {"name": result.name, "title": result.title,
            "columns": [{"key": c.key, "title": c.title} for c in result.columns], "rows": result.rows}


@router.get("/ledgers/{name}/export.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def ledger_export(name: str, db: SessionDep, settings: SettingsDep, start: date | None = None,
                  end: date | None = None, days: int = Query(default=30, ge=1, le=3650),
                  min_transfers: int = Query(default=3, ge=2, le=100), state: str = "all",
                  auth: Authorization = require(Action.DASHBOARD_READ)) -> Response:
    result = _ledger(db, settings, auth.principal, name, start, end, days, min_transfers, state)
    content = ledger_service.workbook(result, settings=settings)
    filename = quote(f"{result.title}-{service.today(settings).isoformat()}.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})


