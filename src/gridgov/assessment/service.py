"""Computing, versioning, publishing and reading a month's assessment; weights; drill-down.

`compute` is read-only: five set-based queries (figures.set_sizes), the whistle module's
scores, then the composite and ranking per kind of unit in Python over a few dozen units.
`run` stores a computation as the month's next version; `publish` locks one. Each writing
function commits once, with its audit event.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.assessment import figures, rules
from gridgov.assessment.models import AssessmentFigure, AssessmentRun, AssessmentScore, AssessmentWeightSet
from gridgov.assessment.rules import INDICATORS, Month, parse_month
from gridgov.assessment.whistle import whistle_figures
from gridgov.audit import service as audit
from gridgov.audit.rules import Actor
from gridgov.auth.policy import Principal
from gridgov.cases import queries
from gridgov.config import Settings
from gridgov.errors import Conflict, InvalidInput, NotFound
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind


class AssessmentConflict(Conflict):
    code = "assessment-conflict"
    title = "与考核状态冲突"


@dataclass
class FigureValue:
    numerator: int | None
    denominator: int | None
    value: Decimal | None
    score: Decimal | None


@dataclass
class UnitResult:
    unit_id: int
    code: str
    name: str
    kind: UnitKind
    figures: dict[str, FigureValue] = field(default_factory=dict)
    composite: Decimal | None = None
    rank: int | None = None


@dataclass
class MonthResult:
    month: Month
    computed_at: datetime
    whistle_included: bool
    weights: dict[str, dict[str, Decimal]]  # kind -> indicator -> percent
    units: list[UnitResult]


def period(month: Month, *, settings: Settings, now: datetime | None = None) -> figures.Period:
    start, end = month.bounds(settings.tz)
    return figures.Period(start, end, now or clock.utcnow())


def assessed_units(db: Session, month: Month, *, settings: Settings) -> list[Unit]:
    """The units right under the district centre of an assessed kind, in force during the month."""
    start, end = month.bounds(settings.tz)
    roots = select(Unit.id).where(Unit.parent_id.is_(None))
    return list(db.scalars(select(Unit).where(
        Unit.parent_id.in_(roots), Unit.kind.in_([k.value for k in rules.ASSESSED_KINDS]),
        Unit.valid_from < end.date(), or_(Unit.valid_to.is_(None), Unit.valid_to >= start.date()))
        .order_by(Unit.kind, Unit.code)))


# ---- weights ----------------------------------------------------------------------------

def _kind(value: str) -> UnitKind:
    try:
        kind = UnitKind(value)
    except ValueError:
        kind = None
    if kind not in rules.ASSESSED_KINDS:
        names = "、".join(f"{k.value}（{k.label}）" for k in rules.ASSESSED_KINDS)
        raise InvalidInput(f"考核对象类型须为 {names}", errors=[{"field": "unit_kind", "message": "不考核此类单位"}])
    return kind


def weights_for(db: Session, *, kind: UnitKind, month: Month) -> tuple[dict[str, Decimal], int | None]:
    """(weights in force for the kind in the month, the weight set's id or None for the defaults)."""
    row = db.scalar(select(AssessmentWeightSet).where(
        AssessmentWeightSet.unit_kind == kind.value, AssessmentWeightSet.valid_from <= str(month))
        .order_by(AssessmentWeightSet.valid_from.desc(), AssessmentWeightSet.id.desc()).limit(1))
    if row is None:
        return dict(rules.DEFAULT_WEIGHTS[kind]), None
    return {k: Decimal(v) for k, v in row.weights.items()}, row.id


def weight_sets(db: Session) -> list[AssessmentWeightSet]:
    return list(db.scalars(select(AssessmentWeightSet).order_by(
        AssessmentWeightSet.unit_kind, AssessmentWeightSet.valid_from, AssessmentWeightSet.id)))


def set_weights(db: Session, *, actor: Actor, unit_kind: str, valid_from: str, weights: dict[str, Any],
                note: str | None = None) -> AssessmentWeightSet:
    """A new weight set for a kind from a month on; published months keep the weights they were
    computed with until recalculated (which makes a new version)."""
    kind = _kind(unit_kind)
    month = rules.month_of(valid_from, field="valid_from")
    checked = rules.check_weights(kind, weights)
    row = AssessmentWeightSet(unit_kind=kind.value, valid_from=str(month), created_at=clock.utcnow(),
                              created_by=actor.name, note=note,
                              weights={k: str(v) for k, v in sorted(checked.items())})
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="assessment.weights", object_type="assessment_weight_set",
                 object_id=row.id, after={"unit_kind": kind.value, "valid_from": str(month),
                                          "weights": row.weights}, reason=note)
    db.commit()
    return row


# ---- computing --------------------------------------------------------------------------

def compute(db: Session, *, settings: Settings, month: Month) -> MonthResult:
    now = clock.utcnow()
    p = period(month, settings=settings, now=now)
    sizes = figures.set_sizes(db, period=p)
    whistle = whistle_figures(db, start=p.start, end=p.end)
    units = assessed_units(db, month, settings=settings)
    weights = {kind.value: weights_for(db, kind=kind, month=month)[0] for kind in rules.ASSESSED_KINDS}
    results = []
    for unit in units:
        kind = UnitKind(unit.kind)
        mine = sizes.get(unit.id, {})
        result = UnitResult(unit.id, unit.code, unit.short_name or unit.name, kind)
        for indicator in INDICATORS.values():
            if kind not in indicator.kinds:
                continue
            if indicator.source == "whistle":
                count, value = (whistle or {}).get(unit.id, {}).get(indicator.key, (None, None))
                result.figures[indicator.key] = FigureValue(count, None, value, rules.score(indicator, value))
                continue
            numerator = mine.get(indicator.numerator, 0)
            if indicator.denominator is None:
                result.figures[indicator.key] = FigureValue(numerator, None, Decimal(numerator), None)
                continue
            denominator = mine.get(indicator.denominator, 0)
            value = rules.rate(numerator, denominator)
            result.figures[indicator.key] = FigureValue(numerator, denominator, value,
                                                        rules.score(indicator, value))
        result.composite = rules.composite({k: f.score for k, f in result.figures.items()},
                                           weights[kind.value])
        results.append(result)
    for kind in rules.ASSESSED_KINDS:
        of_kind = {r.unit_id: r.composite for r in results if r.kind is kind}
        for unit_id, rank in rules.ranking(of_kind).items():
            next(r for r in results if r.unit_id == unit_id).rank = rank
    results.sort(key=lambda r: (rules.ASSESSED_KINDS.index(r.kind), r.rank is None, r.rank or 0, r.code))
    return MonthResult(month, now, whistle is not None, weights, results)


def preview(db: Session, *, settings: Settings, month_text: str) -> MonthResult:
    month = parse_month(month_text, now=clock.utcnow(), tz=settings.tz)
    return compute(db, settings=settings, month=month)


def _latest(db: Session, month: Month) -> AssessmentRun | None:
    return db.scalar(select(AssessmentRun).where(AssessmentRun.month == str(month))
                     .order_by(AssessmentRun.version.desc()).limit(1))


def _published(db: Session, month: Month) -> AssessmentRun | None:
    return db.scalar(select(AssessmentRun).where(AssessmentRun.month == str(month),
                                                 AssessmentRun.status == "published"))


def run(db: Session, *, settings: Settings, actor: Actor, month_text: str, reason: str | None = None) -> AssessmentRun:
    """Compute the month and store it as its next version (a draft). Recalculating a
    published month needs a reason; the published version stays as it is."""
    month = parse_month(month_text, now=clock.utcnow(), tz=settings.tz)
    reason = (reason or "").strip() or None
    if _published(db, month) is not None and reason is None:
        raise InvalidInput(f"{month} 已发布，重新计算须说明理由（将生成新版本，已发布版本不变）",
                           errors=[{"field": "reason", "message": "必填"}])
    result = compute(db, settings=settings, month=month)
    latest = _latest(db, month)
    row = AssessmentRun(month=str(month), version=(latest.version + 1) if latest else 1, status="draft",
                        computed_at=result.computed_at, computed_by=actor.name, reason=reason,
                        whistle_included=result.whistle_included,
                        weights={kind: {k: str(v) for k, v in w.items()} for kind, w in result.weights.items()})
    db.add(row)
    db.flush()
    scores, values = [], []
    for unit in result.units:
        scores.append({"run_id": row.id, "unit_id": unit.unit_id, "unit_code": unit.code, "unit_name": unit.name,
                       "unit_kind": unit.kind.value, "composite": unit.composite, "rank": unit.rank})
        for key, f in unit.figures.items():
            values.append({"run_id": row.id, "unit_id": unit.unit_id, "indicator": key, "numerator": f.numerator,
                           "denominator": f.denominator, "value": f.value, "score": f.score})
    if scores:
        db.execute(AssessmentScore.__table__.insert(), scores)
        db.execute(AssessmentFigure.__table__.insert(), values)
    audit.record(db, actor=actor, action="assessment.run", object_type="assessment_run", object_id=row.id,
                 after={"month": str(month), "version": row.version, "units": len(scores),
                        "whistle_included": result.whistle_included}, reason=reason)
    db.commit()
    return row


def publish(db: Session, *, settings: Settings, actor: Actor, month_text: str, version: int) -> AssessmentRun:
    """Lock a month's latest version as its published result; a version published before is superseded."""
    month = parse_month(month_text, now=clock.utcnow(), tz=settings.tz)
    if not rules.month_ended(month, now=clock.utcnow(), tz=settings.tz):
        raise AssessmentConflict(f"{month} 尚未结束，月末之后才能发布")
    row = db.scalar(select(AssessmentRun).where(AssessmentRun.month == str(month), AssessmentRun.version == version))
    if row is None:
        raise NotFound(f"{month} 没有第 {version} 版考核结果")
    if row.status != "draft":
        raise AssessmentConflict(f"{month} 第 {version} 版已{'发布' if row.status == 'published' else '被取代'}")
    latest = _latest(db, month)
    if latest is not None and latest.version != version:
        raise AssessmentConflict(f"只能发布最新版本（第 {latest.version} 版）")
    previous = _published(db, month)
    if previous is not None:
        previous.status = "superseded"
    row.status, row.published_at, row.published_by = "published", clock.utcnow(), actor.name
    audit.record(db, actor=actor, action="assessment.publish", object_type="assessment_run", object_id=row.id,
                 before={"published_version": previous.version if previous else None},
                 after={"month": str(month), "version": version}, reason=row.reason)
    db.commit()
    return row


# ---- reading stored versions ------------------------------------------------------------

def versions(db: Session, *, month_text: str, settings: Settings) -> list[AssessmentRun]:
    month = parse_month(month_text, now=clock.utcnow(), tz=settings.tz)
    return list(db.scalars(select(AssessmentRun).where(AssessmentRun.month == str(month))
                           .order_by(AssessmentRun.version)))


def get_run(db: Session, *, settings: Settings, month_text: str, version: int | None = None) -> AssessmentRun:
    """The given version; else the published one; else the latest draft."""
    month = parse_month(month_text, now=clock.utcnow(), tz=settings.tz)
    if version is not None:
        row = db.scalar(select(AssessmentRun).where(AssessmentRun.month == str(month),
                                                    AssessmentRun.version == version))
    else:
        row = _published(db, month) or _latest(db, month)
    if row is None:
        raise NotFound(f"{month} 还没有考核结果" + (f"第 {version} 版" if version else "，请先计算"))
    return row


def stored_result(db: Session, run_row: AssessmentRun) -> MonthResult:
    scores = list(db.scalars(select(AssessmentScore).where(AssessmentScore.run_id == run_row.id)))
    values: dict[int, dict[str, FigureValue]] = {}
    for f in db.scalars(select(AssessmentFigure).where(AssessmentFigure.run_id == run_row.id)):
        values.setdefault(f.unit_id, {})[f.indicator] = FigureValue(
            f.numerator, f.denominator, None if f.value is None else Decimal(f.value),
            None if f.score is None else Decimal(f.score))
    units = [UnitResult(s.unit_id, s.unit_code, s.unit_name, UnitKind(s.unit_kind), values.get(s.unit_id, {}),
                        None if s.composite is None else Decimal(s.composite), s.rank) for s in scores]
    order = [INDICATORS[k].key for k in INDICATORS]
    for u in units:
        u.figures = {k: u.figures[k] for k in order if k in u.figures}
    units.sort(key=lambda r: (rules.ASSESSED_KINDS.index(r.kind), r.rank is None, r.rank or 0, r.code))
    month = rules.month_of(run_row.month)
    weights = {kind: {k: Decimal(v) for k, v in w.items()} for kind, w in run_row.weights.items()}
    return MonthResult(month, run_row.computed_at, run_row.whistle_included, weights, units)


# ---- drill-down -------------------------------------------------------------------------

@dataclass(frozen=True)
class DrillDown:
    month: Month
    unit: Unit
    indicator: str
    part: str
    set_key: str
    total: int  # the set's size now (all rows)
    cases: list[tuple[int, str, int]]  # the ones the reader may see: (id, number, items)
    stored: int | None  # the figure in the version asked for, if any
    version: int | None


def drilldown(db: Session, *, settings: Settings, principal: Principal, month_text: str, unit_code: str,
              indicator: str, part: str = "numerator", version: int | None = None) -> DrillDown:
    """The cases behind one figure: the numerator's (or denominator's) set of one unit in one month."""
    month = parse_month(month_text, now=clock.utcnow(), tz=settings.tz)
    spec = INDICATORS.get(indicator)
    if spec is None or spec.source == "whistle":
        raise InvalidInput(f"指标 {indicator} 不能下钻到案件", errors=[{"field": "indicator", "message": "未知或不可下钻"}])
    if part not in ("numerator", "denominator") or (part == "denominator" and spec.denominator is None):
        raise InvalidInput("part 须为 numerator 或（比率指标的）denominator",
                           errors=[{"field": "part", "message": "无效"}])
    unit = db.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or unit.id not in {u.id for u in assessed_units(db, month, settings=settings)}:
        raise NotFound(f"{unit_code} 不是 {month} 的考核对象")
    set_key = spec.numerator if part == "numerator" else spec.denominator
    p = period(month, settings=settings)
    every = figures.set_cases(db, period=p, unit_id=unit.id, set_key=set_key)
    seen = {case_id for case_id, _, _ in figures.set_cases(db, period=p, unit_id=unit.id, set_key=set_key,
                                                              visible=queries.visible(principal))}
    stored, used_version = None, None
    runs = select(AssessmentRun).where(AssessmentRun.month == str(month))
    row = db.scalar(runs.where(AssessmentRun.version == version)) if version is not None else (
        db.scalar(runs.where(AssessmentRun.status == "published")))
    if version is not None and row is None:
        raise NotFound(f"{month} 没有第 {version} 版考核结果")
    if row is not None:
        figure = db.scalar(select(AssessmentFigure).where(AssessmentFigure.run_id == row.id,
                                                          AssessmentFigure.unit_id == unit.id,
                                                          AssessmentFigure.indicator == indicator))
        if figure is not None:
            stored = figure.numerator if part == "numerator" else figure.denominator
        used_version = row.version
    total = sum(items for _, _, items in every)
    return DrillDown(month, unit, indicator, part, set_key, total, [c for c in every if c[0] in seen],
                     stored, used_version)
