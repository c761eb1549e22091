"""系统管理 · 考核权重: the weight of each scored indicator for a kind of unit from a month on
(the percentages must sum to exactly 100), the weights in force, and the history of sets."""

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request

from gridgov import clock
from gridgov.assessment import rules, service
from gridgov.auth.policy import Action
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.rules import UnitKind
from gridgov.web.forms import FormDep, FormState, shown_on
from gridgov.web.pages.admin import admin_page, done, optional
from gridgov.web.session import WebUser, page_for

router = APIRouter(prefix="/admin/weights")
MANAGE = page_for(Action.CONFIG_MANAGE)
KIND_OPTIONS = [(kind.value, rules.KIND_SHEET_NAMES[kind]) for kind in rules.ASSESSED_KINDS]
SUM_FIELD = "weights"


def indicators_for(kind: UnitKind) -> list[rules.Indicator]:
    """The indicators that may carry a weight for `kind`."""
    return [i for i in rules.INDICATORS.values() if i.scored and kind in i.kinds]


def _kind(text: str) -> UnitKind:
    try:
        kind = UnitKind(text)
    except ValueError:
        return UnitKind.DEPARTMENT
    return kind if kind in rules.ASSESSED_KINDS else UnitKind.DEPARTMENT


def _next_month(settings) -> str:
    today = clock.utcnow().astimezone(settings.tz).date()
    return f"{today.year + today.month // 12}-{today.month % 12 + 1:02d}"


def _sum(values: dict[str, str]) -> Decimal | None:
    """The sum of the weights typed, or None when one is not a number."""
    try:
        return sum((Decimal(v or "0") for v in values.values()), Decimal(0))
    except InvalidOperation:
        return None


def _page(request: Request, db, settings, user: WebUser, kind: UnitKind, state: FormState):
    indicators = indicators_for(kind)
    if not state.values:
        month = rules.month_of(_next_month(settings))
        in_force, _ = service.weights_for(db, kind=kind, month=month)
        state.values = {i.key: f"{in_force.get(i.key, Decimal(0)).normalize():f}"
                        for i in indicators}
        state.values |= {"unit_kind": kind.value, "valid_from": str(month)}
    typed = {i.key: state.values.get(i.key, "") for i in indicators}
    history = [s for s in service.weight_sets(db) if s.unit_kind == kind.value]
    return admin_page(request, "admin/weights.html", {
        "kind": kind, "kind_options": KIND_OPTIONS, "indicators": indicators,
        "total": _sum(typed), "history": list(reversed(history)), "labels": {
            key: indicator.label for key, indicator in rules.INDICATORS.items()},
        "defaults": rules.DEFAULT_WEIGHTS[kind], "sum_field": SUM_FIELD,
    }, user=user, form=state, status_code=200 if state.ok else 422)


@router.get("")
def weights(request: Request, db: SessionDep, settings: SettingsDep, kind: str = "",
            user: WebUser = MANAGE):
    return _page(request, db, settings, user, _kind(kind), FormState())


@router.post("")
def save_weights(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
                 user: WebUser = MANAGE):
    kind = _kind(form.get("unit_kind"))
    keys = [i.key for i in indicators_for(kind)]
    state = FormState(values={name: form.get(name) for name in
                              ("unit_kind", "valid_from", "note", *keys)})
    if not form.get("valid_from"):
        state.add("valid_from", "请选择起始月份")
    for key in keys:
        if not form.get(key):
            state.add(key, "请填写权重（不计入填 0）")
    if state.ok:
        weights = {key: form.get(key) for key in keys}
        with shown_on(state, db):
            service.set_weights(db, actor=user.acting(Action.CONFIG_MANAGE).actor,
                                unit_kind=kind.value, valid_from=form.get("valid_from"),
                                weights=weights, note=optional(form.get("note")))
            return done(f"/admin/weights?kind={kind.value}", "saved")
    return _page(request, db, settings, user, kind, state)
