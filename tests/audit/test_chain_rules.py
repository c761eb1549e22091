import json
from datetime import UTC, datetime
from decimal import Decimal

from gridgov.audit.rules import GENESIS_HASH, event_hash, json_safe, verify_chain
from gridgov.cases.rules import CaseStatus


def _chain(n: int) -> list[dict]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        event = {"seq": seq, "occurred_at": datetime(2026, 1, 1, 8, seq, tzinfo=UTC),
                 "actor_id": 1, "actor_name": "admin", "role": "admin", "unit_id": 1,
                 "action": "unit.create", "object_type": "unit", "object_id": str(seq),
                 "before": None, "after": {"name": f"单位{seq}"}, "reason": None,
                 "request_id": None, "prev_hash": prev}
        event["hash"] = prev = event_hash(event)
        events.append(event)
    return events


def test_an_untouched_chain_verifies_and_reports_its_head() -> None:
    events = _chain(5)
    report = verify_chain(events)
    assert report.intact and report.events_checked == 5 and report.head_hash == events[-1]["hash"]


def test_an_altered_event_is_named() -> None:
    events = _chain(5)
    events[2]["after"] = {"name": "改过的名字"}
    report = verify_chain(events)
    assert (report.first_break.seq, report.first_break.kind) == (3, "altered")
    assert report.events_checked == 2


def test_a_deleted_event_is_named_by_the_missing_seq() -> None:
    events = _chain(5)
    del events[1]
    assert (verify_chain(events).first_break.seq, verify_chain(events).first_break.kind) == (2, "deleted")


def test_an_event_replaced_with_a_self_consistent_forgery_breaks_the_link() -> None:
    events = _chain(5)
    forged = dict(events[3], after={"name": "伪造"}, prev_hash="f" * 64)
    forged["hash"] = event_hash(forged)
    events[3] = forged
    report = verify_chain(events)
    assert (report.first_break.seq, report.first_break.kind) == (4, "inserted")


def test_hash_covers_chinese_text_byte_exactly() -> None:
    a, b = _chain(1)[0], _chain(1)[0]
    b["after"] = {"name": "单位１"}  # full-width digit
    assert event_hash(a) != event_hash(b)


def test_json_safe_gives_what_a_json_column_reads_back() -> None:
    plain = {"status": "filed", "holder_unit_id": 7, "urgent": False, "limit": 1.5, "reason": None}
    assert json_safe(plain) == json.loads(json.dumps(plain)) and json_safe(plain) is not plain
    rich = {"status": CaseStatus.FILED, "at": datetime(2026, 1, 1, tzinfo=UTC), "extra": Decimal("2.50"),
            "ids": (1, 2), 3: "三"}
    assert json_safe(rich) == {"status": "filed", "at": "2026-01-01 00:00:00+00:00", "extra": "2.50",
                               "ids": [1, 2], "3": "三"}
    assert type(json_safe(rich)["status"]) is str and json_safe(None) is None
    flat_with_enum = {"status": CaseStatus.FILED, "holder_unit_id": 7}
    assert json_safe(flat_with_enum) == {"status": "filed", "holder_unit_id": 7}
    assert type(json_safe(flat_with_enum)["status"]) is str
