"""绩效考核: a month's assessment — its versions, each kind of unit ranked with every indicator's
figure, every figure opening the cases (or whistles) behind it, the Excel workbook; and, for
those who may publish, computing a draft, publishing it, recalculating with a reason."""

from dataclasses import dataclass

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from gridgov import clock
from gridgov.assessment import rules
from gridgov.assessment import service as assessment
from gridgov.assessment.rules import INDICATORS, KIND_SHEET_NAMES, Month
from gridgov.auth.policy import Action
from gridgov.cases.models import Case
from gridgov.cases.rules import CaseStatus
from gridgov.config import Settings
from gridgov.errors import DomainError, InvalidInput
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.web.forms import GENERAL, FormDep, FormState, shown_on
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()

STATUS = {"draft": ("草稿", "warn"), "published": ("已发布", "ok"), "superseded": ("已被取代", "neutral")}
PARTS = {"numerator": "分子", "denominator": "分母"}
# The whistle module's figure behind each whistle indicator: (numerator, denominator).
WHISTLE_FIGURES = {"whistle_response": (None, "assessed"), "whistle_rating": (None, "rated"),
                   "whistle_closure": ("closed", "whistles")}
WHISTLE_SETS = {"assessed": "已考核的报到（按时、迟到、未报到）", "rated": "街道已评价的报到",
                "closed": "已闭环的吹哨", "whistles": "本月发起的吹哨"}
PAGE_SIZE = 200

ReadUser = page_for(Action.ASSESSMENT_READ)
PublishUser = page_for(Action.ASSESSMENT_PUBLISH)


def last_month(settings: Settings) -> Month:
    today = clock.utcnow().astimezone(settings.tz).date()
    return Month(today.year, today.month).previous()


@dataclass(frozen=True)
class KindTable:
    kind: str
    label: str
    indicators: list[rules.Indicator]
    units: list[assessment.UnitResult]


def _tables(result: assessment.MonthResult) -> list[KindTable]:
    tables = []
    for kind in rules.ASSESSED_KINDS:
        units = [u for u in result.units if u.kind is kind]
        if units:
            tables.append(KindTable(kind.value, KIND_SHEET_NAMES[kind],
                                    [i for i in INDICATORS.values() if kind in i.kinds], units))
    return tables


def _month_page(request: Request, db: Session, settings: Settings, user: WebUser, month_text: str,
                version: int | None = None, *, run_form: FormState | None = None,
                publish_form: FormState | None = None, status_code: int = 200) -> Response:
    picker = FormState(values={"month": month_text})
    context = {"month": month_text, "max_month": str(Month(*_this_month(settings))), "versions": [],
               "run": None, "tables": [], "status": STATUS, "whistle_figures": WHISTLE_FIGURES,
               "indicator_labels": {key: i.label for key, i in INDICATORS.items()},
               "can_publish": user.may(Action.ASSESSMENT_PUBLISH), "month_ended": False, "published": None,
               "latest": None, "run_form": run_form or FormState(values={"month": month_text}),
               "publish_form": publish_form or FormState(), "picker": picker}
    try:
        month = rules.parse_month(month_text, now=clock.utcnow(), tz=settings.tz)
        runs = assessment.versions(db, month_text=str(month), settings=settings)
        context.update(versions=runs, latest=runs[-1] if runs else None,
                       published=next((r for r in runs if r.status == "published"), None),
                       month_ended=rules.month_ended(month, now=clock.utcnow(), tz=settings.tz))
        if runs:
            shown = assessment.get_run(db, settings=settings, month_text=str(month), version=version)
            context.update(run=shown, tables=_tables(assessment.stored_result(db, shown)))
    except DomainError as exc:
        picker.add_domain_error(exc)
        status_code = max(status_code, exc.status)
    return render(request, "assessment/index.html", context, user=user, status_code=status_code)


def _this_month(settings: Settings) -> tuple[int, int]:
    today = clock.utcnow().astimezone(settings.tz).date()
    return today.year, today.month


@router.get("/assessment")
def assessment_page(request: Request, db: SessionDep, settings: SettingsDep, month: str | None = None,
                    version: int | None = None, user: WebUser = ReadUser) -> Response:
    return _month_page(request, db, settings, user, month or str(last_month(settings)), version)


@router.post("/assessment/run")
def run_month(request: Request, db: SessionDep, settings: SettingsDep, form: FormDep,
              user: WebUser = PublishUser) -> Response:
    """Compute the month as its next version (a draft); a published month needs a reason."""
    state = FormState(values={"month": form.get("month"), "reason": form.get("reason")})
    with shown_on(state, db):
        row = assessment.run(db, settings=settings, actor=user.acting(Action.ASSESSMENT_PUBLISH).actor,
                             month_text=form.get("month"), reason=form.get("reason"))
        return RedirectResponse(f"/assessment?month={row.month}&version={row.version}", status_code=303)
    return _month_page(request, db, settings, user, form.get("month"), run_form=state, status_code=422)


@router.post("/assessment/publish")
def publish_version(request: Request, db: SessionDep, settings: SettingsDep, form: FormDep,
                    user: WebUser = PublishUser) -> Response:
    """Lock the month's latest draft as its published result."""
    state = FormState(values={"version": form.get("version")})
    month = form.get("month")
    if not form.get("version").isdigit():
        state.add("version", "请选择要发布的版本")
    else:
        with shown_on(state, db):
            row = assessment.publish(db, settings=settings, actor=user.acting(Action.ASSESSMENT_PUBLISH).actor,
                                     month_text=month, version=int(form.get("version")))
            return RedirectResponse(f"/assessment?month={row.month}&version={row.version}", status_code=303)
    # a refusal for the state the month is in (not ended, not the latest draft, published) is a conflict
    status = 422 if set(state.errors) - {GENERAL} else 409
    return _month_page(request, db, settings, user, month, publish_form=state, status_code=status)


# ---- drill-down --------------------------------------------------------------------------

def _whistle_rows(db: Session, settings: Settings, month: Month, unit: Unit, figure: str) -> list[tuple[int, str]]:
    """The whistles behind a whistle figure of an assessed unit and every unit below it (a
    department's field units are summoned in their own name), by id."""
    from gridgov.whistle.assessment import drill_down  # noqa: PLC0415 - the optional whistle module

    start, end = month.bounds(settings.tz)
    codes = [unit.code] if unit.kind == "street" else list(db.scalars(
        select(Unit.code).where(Unit.path.startswith(unit.path)).order_by(Unit.code)))
    found: dict[int, str] = {}
    for code in codes:
        found.update(drill_down(db, unit_code=code, figure=figure, start=start, end=end))
    return sorted(found.items())


@router.get("/assessment/drill")
def drill(request: Request, db: SessionDep, settings: SettingsDep, month: str, unit: str, indicator: str,
          part: str = "numerator", version: int | None = None, page: int = 1,
          user: WebUser = ReadUser) -> Response:
    """The cases (or, for whistle indicators, the whistles) behind one figure of one unit."""
    spec = INDICATORS.get(indicator)
    context = {"month": month, "indicator": spec, "part": part, "part_label": PARTS.get(part, part),
               "version": version, "page": max(page, 1), "page_size": PAGE_SIZE}
    if spec is not None and spec.source == "whistle":
        parsed = rules.parse_month(month, now=clock.utcnow(), tz=settings.tz)
        target = db.scalar(select(Unit).where(Unit.code == unit))
        figure = WHISTLE_FIGURES[indicator][0 if part == "numerator" else 1]
        if target is None or figure is None:
            raise InvalidInput(f"{indicator} 没有{PARTS.get(part, part)}可下钻")
        whistles = _whistle_rows(db, settings, parsed, target, figure)
        return render(request, "assessment/drill.html", {
            **context, "unit": target, "set_label": WHISTLE_SETS[figure], "whistles": whistles,
            "total": len(whistles)}, user=user)
    found = assessment.drilldown(db, settings=settings, principal=user.principal, month_text=month,
                                 unit_code=unit, indicator=indicator, part=part, version=version)
    first = (context["page"] - 1) * PAGE_SIZE
    shown = found.cases[first:first + PAGE_SIZE]
    cases = {c.id: c for c in db.scalars(select(Case).where(Case.id.in_([i for i, _, _ in shown])))}
    return render(request, "assessment/drill.html", {
        **context, "unit": found.unit, "set_label": rules.CASE_SETS[found.set_key].label,
        "definition": rules.CASE_SETS[found.set_key].definition, "found": found,
        "rows": [(cases[i], items) for i, _, items in shown if i in cases], "statuses": CaseStatus,
        "counts_calls": spec.source == "callbacks",
        "pages": -(-len(found.cases) // PAGE_SIZE)}, user=user)
