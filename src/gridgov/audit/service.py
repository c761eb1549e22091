"""Writing and verifying the audit chain. `record` runs inside the caller's transaction."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gridgov.audit.models import AuditEvent
from gridgov.audit.rules import GENESIS_HASH, Actor, ChainReport, event_hash, json_safe, verify_chain
from gridgov.clock import utcnow
from gridgov.db import insert_rows
from gridgov.observability import current_request_id

# Key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x67726964  # "grid"
_VERIFY_BATCH = 5000


@dataclass(frozen=True)
class Entry:
    """One event to append: who did what to which object (the request it came with by default)."""

    actor: Actor
    action: str
    object_type: str
    object_id: str | int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None
    request_id: str | None = field(default_factory=current_request_id)


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
) -> None:
    """Append one event to the chain in the caller's transaction (commit is the caller's)."""
    record_many(db, [Entry(actor, action, object_type, object_id, before, after, reason)])


def record_many(db: Session, entries: Sequence[Entry]) -> None:
    """Append events to the chain in order, in the caller's transaction: one read of the chain's
    head and one multi-row INSERT however many events (a batch of reports is one append)."""
    if not entries:
        return
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    last = db.connection().execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    occurred_at = utcnow()
    rows = []
    for entry in entries:
        seq += 1
        actor = entry.actor
        row = {
            "seq": seq, "occurred_at": occurred_at, "actor_id": actor.id, "actor_name": actor.name,
            "role": actor.role, "unit_id": actor.unit_id, "action": entry.action,
            "object_type": entry.object_type,
            "object_id": None if entry.object_id is None else str(entry.object_id),
            "before": json_safe(entry.before), "after": json_safe(entry.after), "reason": entry.reason,
            "request_id": entry.request_id, "prev_hash": prev_hash,
        }
        row["hash"] = prev_hash = event_hash(row)
        rows.append(row)
    insert_rows(db.connection(), AuditEvent.__table__, rows)


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
