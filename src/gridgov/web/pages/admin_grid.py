"""系统管理 · 网格导入: the grid's statistics and versions, and importing one level from a
GeoJSON file with its validation report (every problem by feature; nothing written when
there is one)."""

from datetime import datetime

from fastapi import APIRouter, Request

from gridgov.auth.policy import Action
from gridgov.grid import service
from gridgov.grid.crs import CRS
from gridgov.grid.rules import GridLevel
from gridgov.grid.validate import ProblemKind
from gridgov.http import SessionDep, SettingsDep
from gridgov.web.forms import FormDep, FormState
from gridgov.web.pages.admin import admin_page, read_upload, run_import
from gridgov.web.session import WebUser, page_for

router = APIRouter(prefix="/admin/grid")
MANAGE = page_for(Action.CONFIG_MANAGE)
LEVEL_OPTIONS = [(level.value, level.label) for level in GridLevel]
CRS_OPTIONS = [("", "按文件注明"), *((crs.value, crs.label) for crs in CRS)]
PROBLEM_LABELS = {
    ProblemKind.NOT_FEATURE_COLLECTION: "文件结构", ProblemKind.CRS_MISSING: "坐标系",
    ProblemKind.CRS_UNKNOWN: "坐标系", ProblemKind.CRS_CONFLICT: "坐标系",
    ProblemKind.NOT_FEATURE: "要素结构", ProblemKind.GEOMETRY_MISSING: "几何缺失",
    ProblemKind.GEOMETRY_TYPE: "几何类型", ProblemKind.COORDINATES_MALFORMED: "坐标格式",
    ProblemKind.RING_TOO_SHORT: "几何无效", ProblemKind.RING_NOT_CLOSED: "几何无效",
    ProblemKind.COORDINATE_OUT_OF_RANGE: "坐标越界", ProblemKind.INVALID_GEOMETRY: "几何无效",
    ProblemKind.PROPERTIES_MISSING: "属性缺失", ProblemKind.LEVEL_MISMATCH: "层级不符",
    ProblemKind.CODE_MALFORMED: "编码", ProblemKind.NAME_MISSING: "名称缺失",
    ProblemKind.PARENT_MISMATCH: "上级编码", ProblemKind.BASIC_CODE_INVALID: "基础网格编码",
    ProblemKind.UNKNOWN_PARENT: "上级不存在", ProblemKind.DUPLICATE_CODE: "编码重复",
    ProblemKind.CODE_TAKEN: "编码已注销", ProblemKind.OVERLAP: "重叠",
    ProblemKind.OUTSIDE_PARENT: "超出上级", ProblemKind.GAP: "缝隙",
}


def _report_rows(problems: list[dict]) -> list[dict]:
    """The problems as table rows: feature number, id, kind in Chinese, message."""
    rows = []
    for problem in problems:
        try:
            kind = PROBLEM_LABELS[ProblemKind(problem.get("kind"))]
        except ValueError:
            kind = "文件" if problem.get("field") == "file" else "其他"
        index = problem.get("index")
        rows.append({"number": None if index is None else index + 1,
                     "feature_id": problem.get("feature_id") or "", "kind": kind,
                     "message": problem.get("message", "")})
    return rows


def _page(request: Request, db, user: WebUser, state: FormState, *, outcome=None):
    failed = not state.ok or (outcome is not None and outcome.refused)
    return admin_page(request, "admin/grid.html", {
        "stats": service.stats(db), "versions": list(reversed(service.list_versions(db))),
        "level_options": LEVEL_OPTIONS, "level_labels": dict(LEVEL_OPTIONS),
        "crs_options": CRS_OPTIONS, "outcome": outcome,
        "report": _report_rows(outcome.problems) if outcome and outcome.refused else [],
    }, user=user, form=state, status_code=422 if failed else 200)


@router.get("")
def grid(request: Request, db: SessionDep, user: WebUser = MANAGE):
    return _page(request, db, user, FormState(values={"level": GridLevel.UNIT.value}))


def _effective_at(text: str, settings, state: FormState) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        state.add("effective_at", "时间格式不对")
        return None
    return moment.replace(tzinfo=settings.tz) if moment.tzinfo is None else moment


@router.post("/import")
def import_level(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep,
                 user: WebUser = MANAGE):
    state = FormState(values={name: form.get(name) for name in ("level", "crs", "effective_at")})
    try:
        level = GridLevel(form.get("level"))
    except ValueError:
        state.add("level", "请选择层级")
    try:
        crs = CRS(form.get("crs")) if form.get("crs") else None
    except ValueError:
        state.add("crs", "请选择坐标系")
    effective_at = _effective_at(form.get("effective_at"), settings, state)
    found = read_upload(form, state, limit=service.MAX_UPLOAD_BYTES)
    if not state.ok or found is None:
        return _page(request, db, user, state)
    content, name = found
    actor = user.acting(Action.CONFIG_MANAGE).actor
    outcome = run_import(db, lambda: service.import_level(
        db, actor=actor, level=level, collection=service.parse_geojson(content), crs=crs,
        effective_at=effective_at, source_name=name))
    return _page(request, db, user, state, outcome=outcome)
