"""系统管理 · 审计: recent audit events with filters (actor, action, object) and, on request,
the verification of the hash chain. Read-only."""

import json

from fastapi import APIRouter, Request
from sqlalchemy import select

from gridgov.audit import service
from gridgov.audit.models import AuditEvent
from gridgov.auth.policy import Action
from gridgov.http import SessionDep
from gridgov.web.pages.admin import admin_page
from gridgov.web.session import WebUser, page_for

router = APIRouter(prefix="/admin/audit")
PAGE_SIZE = 100


def _readable(value: dict | None) -> str:
    return json.dumps(value, ensure_ascii=False) if value else ""


@router.get("")
def audit(request: Request, db: SessionDep, actor: str = "", action: str = "",
          object_type: str = "", object_id: str = "", before_seq: int | None = None,
          verify: bool = False, user: WebUser = page_for(Action.AUDIT_READ)):
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE)
    for column, value in ((AuditEvent.actor_name, actor), (AuditEvent.action, action),
                          (AuditEvent.object_type, object_type),
                          (AuditEvent.object_id, object_id)):
        if value:
            query = query.where(column == value.strip())
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    events = [{"event": e, "before": _readable(e.before), "after": _readable(e.after)}
              for e in db.scalars(query)]
    may_verify = user.may(Action.AUDIT_VERIFY)
    return admin_page(request, "admin/audit.html", {
        "events": events, "page_size": PAGE_SIZE, "may_verify": may_verify,
        "filters": {"actor": actor, "action": action, "object_type": object_type,
                    "object_id": object_id},
        "report": service.verify(db) if verify and may_verify else None,
    }, user=user)
