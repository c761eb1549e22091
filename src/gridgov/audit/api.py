"""Reading and verifying the audit trail."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from gridgov.audit import service
from gridgov.audit.models import AuditEvent
from gridgov.auth.deps import Authorization, require
from gridgov.auth.policy import Action
from gridgov.http import SessionDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit 审计留痕"])


class AuditEventOut(BaseModel):
    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    role: str | None
    unit_id: int | None
    action: str
    object_type: str
    object_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    request_id: str | None
    hash: str


class ChainStatus(BaseModel):
    intact: bool
    events_checked: int
    head_hash: str
    first_break_seq: int | None = None
    first_break_kind: str | None = None
    detail: str | None = None


@router.get("/events", response_model=list[AuditEventOut])
def list_events(
    db: SessionDep,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    before_seq: int | None = Query(default=None, description="keyset: events older than this seq"),
    limit: int = Query(default=100, ge=1, le=1000),
    auth: Authorization = require(Action.AUDIT_READ),
) -> list[AuditEventOut]:
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    for column, value in ((AuditEvent.object_type, object_type), (AuditEvent.object_id, object_id),
                          (AuditEvent.action, action)):
        if value is not None:
            query = query.where(column == value)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    return [AuditEventOut.model_validate(event, from_attributes=True) for event in db.scalars(query)]


@router.get("/verify", response_model=ChainStatus)
def verify_chain(db: SessionDep, auth: Authorization = require(Action.AUDIT_VERIFY)) -> ChainStatus:
    report = service.verify(db)
    broken = report.first_break
    return ChainStatus(
        intact=report.intact, events_checked=report.events_checked, head_hash=report.head_hash,
        first_break_seq=broken.seq if broken else None, first_break_kind=broken.kind if broken else None,
        detail=broken.detail if broken else None,
    )
