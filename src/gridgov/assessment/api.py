"""Monthly assessment: indicators and formulas, weights, versions, publication, drill-down, Excel."""

from decimal import Decimal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response, status

from gridgov.assessment import excel, rules, service
from gridgov.assessment.models import AssessmentRun
from gridgov.assessment.schemas import (
    CaseSetOut, DrillCaseOut, DrillDownOut, FigureOut, IndicatorOut, MonthOut, RunIn, RunOut, UnitScoreOut,
    WeightSetIn, WeightSetOut,
)
from gridgov.auth.deps import Authorization, require
from gridgov.auth.policy import Action
from gridgov.http import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/assessment", tags=["assessment 考核"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _run_out(row: AssessmentRun) -> RunOut:
    return RunOut(month=row.month, version=row.version, status=row.status, computed_at=row.computed_at,
                  computed_by=row.computed_by, reason=row.reason, published_at=row.published_at,
                  published_by=row.published_by, whistle_included=row.whistle_included,
                  weights={k: {i: Decimal(v) for i, v in w.items()} for k, w in row.weights.items()})


def _units(result: service.MonthResult) -> list[UnitScoreOut]:
    return [UnitScoreOut(
        unit_code=u.code, unit_name=u.name, unit_kind=u.kind.value, composite=u.composite, rank=u.rank,
        figures=[FigureOut(indicator=k, label=rules.INDICATORS[k].label, numerator=f.numerator,
                           denominator=f.denominator, value=f.value, score=f.score) for k, f in u.figures.items()])
        for u in result.units]


def _weight_out(row) -> WeightSetOut:
    return WeightSetOut(id=row.id, unit_kind=row.unit_kind, valid_from=row.valid_from,
                        weights={k: Decimal(v) for k, v in row.weights.items()}, created_by=row.created_by,
                        created_at=row.created_at, note=row.note)


@router.get("/indicators", response_model=list[IndicatorOut])
def indicators(auth: Authorization = require(Action.ASSESSMENT_READ)) -> list[IndicatorOut]:
    """Every indicator with its written formula over the case sets (see /case-sets)."""
    return [IndicatorOut(key=i.key, label=i.label, kind="score" if i.source == "whistle" else (
        "rate" if i.is_rate else "count"), better=i.better.value if i.better else None, numerator=i.numerator,
        denominator=i.denominator, formula=i.formula, unit_kinds=sorted(k.value for k in i.kinds), source=i.source)
        for i in rules.INDICATORS.values()]


@router.get("/case-sets", response_model=list[CaseSetOut])
def case_sets(auth: Authorization = require(Action.ASSESSMENT_READ)) -> list[CaseSetOut]:
    """The sets of cases the indicators count, and what puts a case in each."""
    return [CaseSetOut(key=s.key, label=s.label, definition=s.definition) for s in rules.CASE_SETS.values()]


@router.get("/weights", response_model=list[WeightSetOut])
def weights(db: SessionDep, auth: Authorization = require(Action.ASSESSMENT_READ)) -> list[WeightSetOut]:
    """The built-in defaults (valid_from null) and every weight set configured since."""
    defaults = [WeightSetOut(id=None, unit_kind=k.value, valid_from=None, weights=w, created_by=None,
                             created_at=None, note="默认权重") for k, w in rules.DEFAULT_WEIGHTS.items()]
    return defaults + [_weight_out(s) for s in service.weight_sets(db)]


@router.post("/weights", response_model=WeightSetOut, status_code=status.HTTP_201_CREATED)
def set_weights(body: WeightSetIn, db: SessionDep,
                auth: Authorization = require(Action.CONFIG_MANAGE)) -> WeightSetOut:
    """Weights for a kind of unit from a month on; they must sum to 100 % (422 otherwise, nothing saved)."""
    return _weight_out(service.set_weights(db, actor=auth.actor, unit_kind=body.unit_kind,
                                           valid_from=body.valid_from, weights=body.weights, note=body.note))


@router.get("/preview", response_model=MonthOut)
def preview(db: SessionDep, settings: SettingsDep, month: str,
            auth: Authorization = require(Action.ASSESSMENT_READ)) -> MonthOut:
    """Compute a month now without storing it."""
    result = service.preview(db, settings=settings, month_text=month)
    return MonthOut(month=str(result.month), version=None, status="preview", computed_at=result.computed_at,
                    computed_by=None, reason=None, published_at=None, published_by=None,
                    whistle_included=result.whistle_included, weights=result.weights, units=_units(result))


@router.post("/runs", response_model=RunOut, status_code=status.HTTP_201_CREATED)
def run(body: RunIn, db: SessionDep, settings: SettingsDep,
        auth: Authorization = require(Action.ASSESSMENT_PUBLISH)) -> RunOut:
    """Compute a month and store it as its next version (draft); a published month needs a reason."""
    return _run_out(service.run(db, settings=settings, actor=auth.actor, month_text=body.month, reason=body.reason))


@router.get("/months/{month}/versions", response_model=list[RunOut])
def versions(month: str, db: SessionDep, settings: SettingsDep,
             auth: Authorization = require(Action.ASSESSMENT_READ)) -> list[RunOut]:
    return [_run_out(r) for r in service.versions(db, month_text=month, settings=settings)]


@router.post("/months/{month}/versions/{version}/publish", response_model=RunOut)
def publish(month: str, version: int, db: SessionDep, settings: SettingsDep,
            auth: Authorization = require(Action.ASSESSMENT_PUBLISH)) -> RunOut:
    """Lock the month's latest version as its published result (after the month has ended)."""
    return _run_out(service.publish(db, settings=settings, actor=auth.actor, month_text=month, version=version))


@router.get("/months/{month}", response_model=MonthOut)
def month_result(month: str, db: SessionDep, settings: SettingsDep, version: int | None = None,
                 auth: Authorization = require(Action.ASSESSMENT_READ)) -> MonthOut:
    """A stored version: the one asked for, else the published one, else the latest draft."""
    row = service.get_run(db, settings=settings, month_text=month, version=version)
    result = service.stored_result(db, row)
    return MonthOut(**_run_out(row).model_dump(), units=_units(result))


@router.get("/months/{month}/export.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}}})
def export(month: str, db: SessionDep, settings: SettingsDep, version: int | None = None,
           auth: Authorization = require(Action.ASSESSMENT_READ)) -> Response:
    """The stored version as Excel (one sheet per kind of unit, and the notes)."""
    row = service.get_run(db, settings=settings, month_text=month, version=version)
    content = excel.workbook(service.stored_result(db, row), version=row.version, status=row.status)
    name = quote(f"考核结果-{row.month}-v{row.version}.xlsx")
    return Response(content, media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@router.get("/months/{month}/drilldown", response_model=DrillDownOut)
def drilldown(month: str, db: SessionDep, settings: SettingsDep, unit: str, indicator: str,
              part: str = Query(default="numerator", pattern="^(numerator|denominator)$"),
              version: int | None = None, auth: Authorization = require(Action.ASSESSMENT_READ)) -> DrillDownOut:
    """The cases behind one figure of one unit (those the caller may see are listed; `total` counts all)."""
    d = service.drilldown(db, settings=settings, principal=auth.principal, month_text=month, unit_code=unit,
                          indicator=indicator, part=part, version=version)
    return DrillDownOut(
        month=str(d.month), unit_code=d.unit.code, indicator=d.indicator, part=d.part, case_set=d.set_key,
        definition=rules.CASE_SETS[d.set_key].definition, total=d.total, stored=d.stored, version=d.version,
        matches_stored=None if d.stored is None else d.stored == d.total, visible=len(d.cases),
        cases=[DrillCaseOut(id=i, number=n, items=k) for i, n, k in d.cases])
