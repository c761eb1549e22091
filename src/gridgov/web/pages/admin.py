"""系统管理 — the administrators' pages: the overview with its sub-navigation, and the pieces
every admin sub-page shares (the section list, uploads, import reports).

Each sub-page lives in its own module (`admin_users`, `admin_units`, `admin_grid`,
`admin_catalog`, `admin_duty`, `admin_situations`, `admin_calendar`, `admin_weights`,
`admin_audit`) and checks its own action; the overview lists only the sections the signed-in
user may use.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse

from gridgov.auth.models import User
from gridgov.auth.policy import Action
from gridgov.catalog.models import DutyRuleRow, MatterTypeVersion
from gridgov.errors import DomainError
from gridgov.http import SessionDep
from gridgov.org.models import Unit
from gridgov.web.forms import FormState, SubmittedForm
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()
T = TypeVar("T")


@dataclass(frozen=True)
class Section:
    path: str
    label: str
    action: Action


SECTIONS = (
    Section("/admin/users", "用户", Action.USER_MANAGE),
    Section("/admin/units", "组织机构", Action.UNIT_MANAGE),
    Section("/admin/grid", "网格导入", Action.CONFIG_MANAGE),
    Section("/admin/catalog", "事项目录", Action.CONFIG_MANAGE),
    Section("/admin/duty", "职责清单", Action.CONFIG_MANAGE),
    Section("/admin/situations", "吹哨情形", Action.CONFIG_MANAGE),
    Section("/admin/calendar", "节假日", Action.CONFIG_MANAGE),
    Section("/admin/weights", "考核权重", Action.CONFIG_MANAGE),
    Section("/admin/audit", "审计", Action.AUDIT_READ),
)
ADMIN_ACTIONS = (Action.USER_MANAGE, Action.UNIT_MANAGE, Action.CONFIG_MANAGE, Action.AUDIT_VERIFY)
# What a page says after a change redirected back to it (`?done=<key>`).
NOTICES = {
    "created": "已创建", "saved": "已保存", "unlocked": "账号已解锁", "password": "密码已重置，该用户须重新登录",
    "retired": "已停用", "deactivated": "规则已停用", "deleted": "已删除该日调整",
    "declared": "已声明该年补录完整", "arranged": "已录入全年安排",
}


def admin_page(request: Request, name: str, context: dict[str, Any] | None = None, *,
               user: WebUser, form: FormState | None = None,
               status_code: int = 200) -> HTMLResponse:
    """An admin page: the layout plus the sections this user may open."""
    sections = [s for s in SECTIONS if user.may(s.action)]
    notice = NOTICES.get(request.query_params.get("done", ""))
    return render(request, name, {"sections": sections, "notice": notice, **(context or {})},
                  user=user, form=form, status_code=status_code)


def done(url: str, key: str) -> RedirectResponse:
    """After a change: back to `url` (303), which then says what was done."""
    separator = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{separator}done={key}", status_code=303)


def status_of(form: FormState) -> int:
    """200 for a clean form, 422 for one with problems."""
    return 200 if form.ok else 422


def read_upload(form: SubmittedForm, state: FormState, *, name: str = "file",
                limit: int) -> tuple[bytes, str] | None:
    """The chosen file's bytes and name, or None with the problem recorded next to the field."""
    uploads = form.uploads(name)
    if not uploads:
        state.add(name, "请选择文件")
        return None
    upload = uploads[0]
    content = upload.file.read(limit + 1)
    if len(content) > limit:
        state.add(name, f"文件超过 {limit // 1024 // 1024} MB")
        return None
    return content, upload.filename or ""


@dataclass
class ImportOutcome:
    """An all-or-nothing import: its result, or the refusal with every problem listed."""

    result: Any = None
    detail: str | None = None
    problems: list[dict] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return self.detail is not None


def run_import(db: Session, call: Callable[[], T]) -> ImportOutcome:
    """Run an import service call; a refusal rolls back and keeps its problems for the report."""
    try:
        return ImportOutcome(result=call())
    except DomainError as exc:
        if exc.status in (401, 403) and not exc.audited:
            raise
        db.rollback()
        return ImportOutcome(detail=exc.detail, problems=list(exc.errors))


MAX_EXCEL_BYTES = 10 * 1024 * 1024


def excel_import(form: SubmittedForm, db: Session, upload: FormState,
                 call: Callable[[bytes], Any]) -> ImportOutcome | None:
    """Import the uploaded workbook with `call(content)`; None (the problem in `upload`)
    when no file, or too large a one, was sent."""
    found = read_upload(form, upload, limit=MAX_EXCEL_BYTES)
    if found is None:
        return None
    return run_import(db, lambda: call(found[0]))


def optional(text: str) -> str | None:
    return text or None


@router.get("/admin")
def overview(request: Request, db: SessionDep, user: WebUser = page_for(*ADMIN_ACTIONS)):
    counts = {
        "users": db.scalar(select(func.count()).select_from(User)),
        "units": db.scalar(select(func.count()).select_from(Unit)),
        "types": db.scalar(select(func.count()).select_from(MatterTypeVersion)
                           .where(MatterTypeVersion.valid_to.is_(None))),
        "rules": db.scalar(select(func.count()).select_from(DutyRuleRow)
                           .where(DutyRuleRow.active.is_(True))),
    }
    return admin_page(request, "admin/overview.html", {"counts": counts}, user=user)
