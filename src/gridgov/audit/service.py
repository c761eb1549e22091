"""Writing and verifying the audit chain. `record` runs inside the caller's transaction."""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gridgov.audit.models import AuditEvent
from gridgov.audit.rules import GENESIS_HASH, Actor, ChainReport, event_hash, json_safe, verify_chain
from gridgov.clock import utcnow
from gridgov.observability import current_request_id

# Key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x67726964  # "grid"
_VERIFY_BATCH = 5000


def record(
    db: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction (commit is the caller's)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    last = db.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        occurred_at=utcnow(),
        actor_id=actor.id,
        actor_name=actor.name,
        role=actor.role,
        unit_id=actor.unit_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=json_safe(before),
        after=json_safe(after),
        reason=reason,
        request_id=current_request_id(),
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event_hash(event.hashed_fields())
    db.add(event)
    db.flush()
    return event


def _events_in_order(db: Session) -> Iterator[dict[str, Any]]:
    after_seq = 0
    while True:
        batch = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > after_seq)
            .order_by(AuditEvent.seq)
            .limit(_VERIFY_BATCH)
        ).all()
        if not batch:
            return
        for event in batch:
            yield event.hashed_fields()
        after_seq = batch[-1].seq
        db.expunge_all()


def verify(db: Session) -> ChainReport:
    return verify_chain(_events_in_order(db))
