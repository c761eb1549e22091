"""The generic transition forms of a case: which transitions a user may take now, what each
one asks for (exactly the table's required fields, plus the optional ones the service uses),
and performing one from a submitted form — photos stored first, then the transition.

The availability test mirrors `cases.service._authorize`: the case's status is a source of
the transition, the policy allows the transition's action on the case (on its current holder
only, for holder transitions), and for holder transitions the user's unit holds the case;
plus the few facts a transition's effect checks (`_PRECONDITIONS`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.auth.policy import Principal, decide
from gridgov.calendar.rules import LimitUnit
from gridgov.cases import attachments, service
from gridgov.cases.models import Case, CaseAssignment, ExtensionRequest
from gridgov.cases.rules import TRANSITIONS, CaseStatus, Grade, Transition, check_transition
from gridgov.cases.schemas import TransitionIn
from gridgov.catalog import service as catalog
from gridgov.config import Settings
from gridgov.errors import DomainError, InvalidInput, PermissionDenied, StaleVersion
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind
from gridgov.web.forms import FormState, SubmittedForm, validate


def holds(db: Session, principal: Principal, case: Case) -> bool:
    holder = db.get(Unit, case.holder_unit_id) if case.holder_unit_id else None
    return holder is not None and principal.unit.contains(holder.path)


def _pending_extension(db: Session, case: Case) -> bool:
    return db.scalar(select(ExtensionRequest.id).where(
        ExtensionRequest.case_id == case.id, ExtensionRequest.decision.is_(None)).limit(1)) is not None


def _assignment_depth(db: Session, case: Case) -> int:
    depth = db.scalar(select(CaseAssignment.depth).where(
        CaseAssignment.case_id == case.id, CaseAssignment.unit_id == case.holder_unit_id,
        CaseAssignment.ended_at.is_(None)).order_by(CaseAssignment.id.desc()).limit(1))
    return depth or 1


# Facts a transition's own effect insists on beyond the table (offering it otherwise would
# only lead to a refusal): supervision is put on once, an extension is asked once, and a case
# passed on inside a unit goes back to the unit that passed it. A case under an open whistle
# stays with the whistle (service.BLOCKED_BY_OPEN_WHISTLE).
_PRECONDITIONS: dict[str, Callable[[Session, Case], bool]] = {
    "supervise": lambda db, case: not case.supervised,
    "clear_supervision": lambda db, case: bool(case.supervised),
    "request_extension": lambda db, case: not _pending_extension(db, case),
    "decide_extension": _pending_extension,
    "return_to_district": lambda db, case: _assignment_depth(db, case) == 1,
    "return_to_sender": lambda db, case: _assignment_depth(db, case) > 1,
}


def allowed(db: Session, principal: Principal, case: Case, transition: Transition) -> bool:
    """Whether the service would let `principal` take `transition` on `case` now."""
    if CaseStatus(case.status) not in transition.sources:
        return False
    target = service.target_of(db, case, holder_only=transition.by_holder)
    if not decide(principal, transition.action, target).allowed:
        return False
    if transition.by_holder and not holds(db, principal, case):
        return False
    if transition.name in service.BLOCKED_BY_OPEN_WHISTLE and service.open_whistle_number(
            db, case_id=case.id):
        return False
    precondition = _PRECONDITIONS.get(transition.name)
    return precondition is None or precondition(db, case)


def available(db: Session, principal: Principal, case: Case) -> list[Transition]:
    """The transitions of the table this user may take on the case now, in table order."""
    return [t for t in TRANSITIONS.values() if allowed(db, principal, case, t)]


# ---- what each transition asks for --------------------------------------------------------

@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str  # textarea | text | number | select | type | unit | case | photo | photos
    required: bool
    hint: str | None = None
    photo_kind: str | None = None  # the attachment kind a photo field stores


_FIELDS: dict[str, tuple[str, str, str | None]] = {  # name → (label, kind, hint)
    "reason": ("理由", "textarea", None),
    "note": ("说明", "textarea", None),
    "result": ("处置结果", "textarea", "写明处置措施和现场情况"),
    "type_code": ("事项类型", "type", "输入编码、名称或关键词，从候选中选择"),
    "grade": ("分级", "select", "不选则按事项的默认分级"),
    "unit_code": ("派往单位", "unit", None),
    "into_case_id": ("并入案件（编号）", "case", "保留的案件；本案的反映人将并入该案件"),
    "before_photo": ("处置前照片", "photo", "JPEG、PNG、WebP 或 HEIC 图片"),
    "after_photo": ("处置后照片", "photo", "JPEG、PNG、WebP 或 HEIC 图片"),
    "attachment_ids": ("照片", "photos", "可选多张；JPEG、PNG、WebP 或 HEIC 图片"),
    "extra_value": ("延长时长", "number", None),
    "extra_unit": ("时长单位", "select", None),
    "approved": ("审批结果", "select", None),
}
# Per transition: a clearer label (and hint) for a field.
_LABELS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("dispatch", "reason"): ("改派理由", "不采用职责清单建议的单位时必填"),
    ("redispatch", "reason"): ("派发说明", None),
    ("redispatch", "unit_code"): ("派给下属单位", None),
    ("decide_extension", "reason"): ("审批意见", "不同意延期时必填"),
    ("verify", "note"): ("核查意见", None),
    ("close_whistled", "note"): ("办结说明", None),
    ("report_result", "attachment_ids"): ("处置后照片", "可选多张；JPEG、PNG、WebP 或 HEIC 图片"),
    ("verify", "attachment_ids"): ("核查照片", "可选多张；JPEG、PNG、WebP 或 HEIC 图片"),
}
# Optional fields a transition's effect uses beyond the table's required ones.
_OPTIONAL: dict[str, tuple[str, ...]] = {
    "file": ("grade",),
    "dispatch": ("reason",),
    "redispatch": ("reason",),
    "report_result": ("attachment_ids",),
    "verify": ("attachment_ids",),
    "decide_extension": ("reason",),
}
_PHOTO_KINDS = {"before_photo": "before", "after_photo": "after",
                ("report_result", "attachment_ids"): "after", ("verify", "attachment_ids"): "verification"}


def fields_for(transition: Transition) -> list[FieldSpec]:
    specs = []
    for name in (*transition.required, *_OPTIONAL.get(transition.name, ())):
        label, kind, hint = _FIELDS[name]
        label, hint = _LABELS.get((transition.name, name), (label, hint))
        photo_kind = _PHOTO_KINDS.get(name) or _PHOTO_KINDS.get((transition.name, name))
        specs.append(FieldSpec(name, label, kind, name in transition.required, hint, photo_kind))
    return specs


GRADE_OPTIONS = [("", "按事项默认"), *((g.value, f"{g.value} {g.label}") for g in Grade)]
UNIT_OPTIONS = [(u.value, u.label) for u in LimitUnit]
APPROVED_OPTIONS = [("", "请选择"), ("true", "同意延期"), ("false", "不同意")]


def _label(unit: Unit) -> str:
    return f"{unit.short_name or unit.name}（{unit.code}）"


def _active(db: Session, *conditions: Any) -> list[Unit]:
    today = clock.utcnow().date()
    units = db.scalars(select(Unit).where(*conditions).order_by(Unit.kind, Unit.code))
    return [u for u in units if u.validity.active_on(today)]


def dispatch_units(db: Session, case: Case) -> list[tuple[str, str]]:
    """Where the district may send the case: the departments, and the case's street with the
    units inside it or serving it (field units, sections, bodies, communities)."""
    street = db.get(Unit, case.street_id)
    units = _active(db, Unit.kind.in_(service.DISPATCHABLE_KINDS), or_(
        Unit.kind == UnitKind.DEPARTMENT, Unit.id == street.id, Unit.serves_street_id == street.id,
        Unit.parent_id == street.id))
    return [(u.code, _label(u)) for u in units]


def redispatch_units(db: Session, case: Case) -> list[tuple[str, str]]:
    """The holder's units below it (and, for a street, the field units serving the street)."""
    holder = db.get(Unit, case.holder_unit_id) if case.holder_unit_id else None
    if holder is None:
        return []
    below = Unit.path.startswith(holder.path) & (Unit.id != holder.id)
    if UnitKind(holder.kind) in (UnitKind.STREET, UnitKind.SUBCENTRE):
        below = or_(below, (Unit.serves_street_id == case.street_id) & (Unit.kind == UnitKind.FIELD_UNIT))
    return [(u.code, _label(u)) for u in _active(db, below)]


def suggestion(db: Session, case: Case) -> tuple[Any, str | None]:
    """(the duty matrix's answer, None) or (None, why there is none)."""
    try:
        return service.suggest_unit(db, case=case), None
    except DomainError as exc:
        return None, exc.detail


# ---- performing one -----------------------------------------------------------------------

@dataclass
class Submission:
    data: dict[str, Any]  # TransitionIn fields, photos left out
    photos: dict[str, list[tuple[bytes, str | None]]]  # field → [(content, file name)]


def parse(db: Session, transition: Transition, form: SubmittedForm, state: FormState) -> Submission:
    """The submitted fields as the service's input; every problem recorded next to its field."""
    data: dict[str, Any] = {"version": form.get("version")}
    if not data["version"].isdigit():
        state.add(None, "表单缺少案件版本，请刷新页面后重试")
    photos: dict[str, list[tuple[bytes, str | None]]] = {}
    for spec in fields_for(transition):
        if spec.photo_kind:
            chosen = photos[spec.name] = [(f.file.read(attachments.MAX_PHOTO_BYTES + 1), f.filename)
                                          for f in form.uploads(spec.name)]
            if spec.required and not chosen:
                state.add(spec.name, "必填")
            for content, _ in chosen:
                _check_photo(content, spec, state)
            continue
        value = form.get(spec.name)
        if spec.required and not value:
            state.add(spec.name, "必填")
        elif value and spec.kind == "case":
            data[spec.name] = _case_id(db, value, spec.name, state)
        elif value and spec.kind == "type":
            data[spec.name] = _type_code(db, value, spec.name, state)
        elif value and spec.name == "approved":
            data[spec.name] = value == "true"
        elif value:
            data[spec.name] = value
    if state.ok:
        validate(TransitionIn, data, state)
    return Submission(data, photos)


def _check_photo(content: bytes, spec: FieldSpec, state: FormState) -> None:
    try:
        attachments.check(content, kind=spec.photo_kind)
    except InvalidInput as exc:
        state.add(spec.name, exc.detail)


def _case_id(db: Session, number: str, field: str, state: FormState) -> int | None:
    found = db.scalar(select(Case.id).where(Case.number == number))
    if found is None:
        state.add(field, "没有这个编号的案件")
    return found


def _type_code(db: Session, code: str, field: str, state: FormState) -> str:
    try:
        return catalog.get_type(db, code=code).code
    except DomainError as exc:
        state.add(field, exc.detail)
        return code


def perform(db: Session, *, settings: Settings, principal: Principal, case: Case, transition: Transition,
            submission: Submission) -> Case:
    """Store the photos the transition needs, then apply it. Everything the service would
    refuse is checked before any photo is stored, so a refusal leaves nothing behind."""
    data = dict(submission.data)
    chosen = {name: files for name, files in submission.photos.items() if files}
    if chosen:
        _precheck(db, principal, case, transition, {**data, **{name: 0 for name in chosen}})
        specs = {s.name: s for s in fields_for(transition)}
        for name, files in chosen.items():
            ids = [service.attach(db, settings=settings, principal=principal, case_id=case.id,
                                  kind=specs[name].photo_kind, content=content, original_name=filename).id
                   for content, filename in files]
            data[name] = ids if specs[name].kind == "photos" else ids[0]
    return service.transition(db, settings=settings, principal=principal, case_id=case.id,
                              name=transition.name, data=TransitionIn.model_validate(data))


def _precheck(db: Session, principal: Principal, case: Case, transition: Transition,
              payload: dict[str, Any]) -> None:
    if case.version != int(payload["version"]):
        raise StaleVersion(f"案件已被他人更新（当前版本 {case.version}，提交所据版本 {payload['version']}），请刷新后重试")
    check_transition(transition.name, status=CaseStatus(case.status), payload=payload)
    if not allowed(db, principal, case, transition):
        raise PermissionDenied(f"无权对此案件执行“{transition.label}”")
