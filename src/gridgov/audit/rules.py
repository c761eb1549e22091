"""Pure rules of the hash chain: how an event is hashed and how a chain is verified."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The fields an event's hash covers, in this order. Adding a field changes every hash:
# do it only with a migration that re-seals the chain under a new chain version.
HASHED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_name", "role", "unit_id", "action",
    "object_type", "object_id", "before", "after", "reason", "request_id", "prev_hash",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the hashed fields (keys sorted, UTF-8)."""
    content = {name: _canonical(fields.get(name)) for name in HASHED_FIELDS}
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    kind: str  # altered | inserted | deleted
    detail: str


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    head_hash: str
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def verify_chain(events: Iterable[dict[str, Any]]) -> ChainReport:
    """Walk events in seq order; report the first altered, inserted or deleted event.

    - altered: the stored hash no longer matches the event's content;
    - deleted: a seq number is missing, or an event's prev_hash points past its predecessor;
    - inserted: a seq appears twice, or an event was slipped in whose prev_hash or hash
      does not continue the chain.
    Deleting events at the very end of the chain leaves no trace inside it: compare the
    reported head hash with one recorded elsewhere (the CLI prints it) to catch that.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in events:
        seq = event["seq"]
        if seq < expected_seq:
            return ChainReport(checked, expected_prev, ChainBreak(
                seq, "inserted", f"序号 {seq} 重复出现：有事件被插入"))
        if seq > expected_seq:
            return ChainReport(checked, expected_prev, ChainBreak(
                expected_seq, "deleted",
                f"缺少序号 {expected_seq}–{seq - 1} 的事件：有事件被删除"))
        if event_hash(event) != event["hash"]:
            return ChainReport(checked, expected_prev, ChainBreak(
                seq, "altered", f"事件 {seq} 的内容与其哈希不符：事件被篡改"))
        if event["prev_hash"] != expected_prev:
            return ChainReport(checked, expected_prev, ChainBreak(
                seq, "inserted",
                f"事件 {seq} 未接续前一事件的哈希：其前有事件被插入、删除或替换"))
        expected_prev = event["hash"]
        expected_seq += 1
        checked += 1
    return ChainReport(checked, expected_prev, None)


@dataclass(frozen=True)
class Actor:
    """Who did something: a signed-in user acting in one role and unit, or the system."""

    id: int | None
    name: str
    role: str | None
    unit_id: int | None


SYSTEM_ACTOR = Actor(id=None, name="system", role=None, unit_id=None)
ANONYMOUS_ACTOR = Actor(id=None, name="anonymous", role=None, unit_id=None)


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_safe(value: Any) -> Any:
    """The value exactly as it will read back from a JSON column (so its hash stays stable)."""
    if value is None:
        return None
    if type(value) is dict and all(type(k) is str for k in value):
        # A flat dict of scalars reads back as it is (a str enum as its text): no need to write
        # and read it.
        flat = {}
        for key, item in value.items():
            if type(item) in _JSON_SCALARS:
                flat[key] = item
            elif isinstance(item, str):
                flat[key] = str.__str__(item)
            else:
                break
        else:
            return flat
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))
