"""Intake's batched write and group commit: many reports, one transaction, each answered on its own."""

import time
from concurrent.futures import Future

import pytest
from sqlalchemy import func, select

from gridgov.audit import service as audit
from gridgov.audit.models import AuditEvent
from gridgov.auth import service as auth
from gridgov.auth.deps import Credential
from gridgov.auth.models import User
from gridgov.auth.rules import TokenKind
from gridgov.cases import intake
from gridgov.cases.group_commit import ReportWriter, Submission
from gridgov.cases.models import Case, CaseClock, CaseEvent, CaseReporter
from gridgov.errors import Conflict, NotAuthenticated, PermissionDenied
from gridgov.cases.schemas import ReportIn
from gridgov.db import HeldSessions
from gridgov.grid.rules import OutsideManagedArea
from gridgov.org.models import Unit
from tests.cases.flow import DONGHUAMEN, EXPOSED_GARBAGE, placed


def _count(world, model) -> int:
    with world.read() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_a_batch_writes_every_report_with_its_reporter_clock_event_and_audit_event(world, world_settings, frozen):
    reports = [placed(world, f"B-{i}") for i in range(5)]
    with world.read() as db:
        head = db.scalar(select(func.max(AuditEvent.seq))) or 0
    with world.write() as db:
        written = intake.write(db, settings=world_settings, reports=reports)
        db.commit()
    assert all(w.created for w in written) and len({w.case_id for w in written}) == 5
    assert [_count(world, model) for model in (Case, CaseReporter, CaseClock, CaseEvent)] == [5, 5, 5, 5]
    with world.read() as db:
        numbers = [db.get(Case, w.case_id).number for w in written]
        assert all(db.get(CaseEvent, w.event_id).case_id == w.case_id for w in written)
        audited = list(db.scalars(select(AuditEvent.object_id).where(
            AuditEvent.action == "case.report", AuditEvent.seq > head).order_by(AuditEvent.seq)))
        assert audit.verify(db).intact
    assert numbers == [f"2026000000{i}" for i in range(1, 6)]
    assert audited == [str(w.case_id) for w in written]


def test_reports_placed_together_are_located_each_and_refused_together(world, frozen):
    actor = placed(world, "P-0").actor
    inside = ReportIn(channel="hotline_12345", channel_ref="P-1", description="道路不洁", lng=DONGHUAMEN[0],
                      lat=DONGHUAMEN[1])
    by_grid = ReportIn(channel="special_inspection", description="井盖缺失", grid_code="110101001001001",
                       type_code=EXPOSED_GARBAGE)
    with world.read() as db:
        first, second = intake.place_reports(db, actor=actor, reports=[inside, by_grid])
        street = db.scalar(select(Unit.id).where(Unit.code == "110101001"))
        with pytest.raises(OutsideManagedArea):
            intake.place_reports(db, actor=actor, reports=[inside, inside.model_copy(update={"lng": 116.0})])
    assert (first.street_id, second.street_id) == (street, street)
    assert second.place.unit_code == "110101001001001" and second.matter.code == EXPOSED_GARBAGE
    assert first.reference == "P-1" and len(second.reference) == 32  # a channel without references gets one


def test_a_reference_twice_in_one_batch_or_already_known_makes_no_second_case(world, world_settings, frozen):
    with world.write() as db:
        [known] = intake.write(db, settings=world_settings, reports=[placed(world, "K-1")])
        db.commit()
    with world.write() as db:
        written = intake.write(db, settings=world_settings, reports=[
            placed(world, "K-1"), placed(world, "K-2"), placed(world, "K-2")])
        db.commit()
    assert [(w.case_id == known.case_id, w.created) for w in written] == [(True, False), (False, True), (False, False)]
    assert written[1].case_id == written[2].case_id
    assert _count(world, Case) == 2


def test_the_snapshot_answers_as_the_case_reads_back(world, world_settings, frozen):
    with world.write() as db:
        [written] = intake.write(db, settings=world_settings, reports=[placed(world, "S-1")])
        db.commit()
    snapshot = written.snapshot()
    with world.read() as db:
        stored = db.get(Case, written.case_id)
        for column in Case.__table__.columns:
            if column.key in snapshot.__dict__:
                assert getattr(snapshot, column.key) == getattr(stored, column.key), column.key
        assert [c.deadline_at for c in snapshot.clocks] == [c.deadline_at for c in stored.clocks]
        assert [r.phone for r in snapshot.reporters] == [r.phone for r in stored.reporters]


def _credential(world, settings, username: str = "intake") -> Credential:
    with world.write() as db:
        user = db.scalar(select(User).where(User.username == username))
        token, _ = auth.issue_token(db, settings=settings, actor=auth.actor_for(user, None), user=user,
                                    kind=TokenKind.ACCESS, lifetime=None)
        db.commit()
    return Credential(token, frozenset({TokenKind.ACCESS, TokenKind.INTEGRATION}))


def _submission(credential: Credential, ref: str | None, **changes) -> Submission:
    return Submission(credential, ReportIn(**{
        "channel": "hotline_12345", "channel_ref": ref, "description": "道路不洁", "lng": DONGHUAMEN[0],
        "lat": DONGHUAMEN[1], "reporter_name": "张三", "reporter_phone": "13800000000"} | changes))


def _served(writer: ReportWriter, submissions: list[Submission]) -> list:
    """Serve the submissions as one batch; each one's answer, or the problem it was refused with."""
    batch = [(submission, Future()) for submission in submissions]
    with HeldSessions(writer._database) as sessions:
        writer._serve(batch, sessions)
    return [future.exception(timeout=5) or future.result() for _, future in batch]


def test_reports_submitted_together_are_committed_together_and_each_is_answered(world, world_settings, frozen):
    writer = ReportWriter(world, world_settings)
    credential = _credential(world, world_settings)
    commits = []
    original = writer._commit

    def counting_commit(batch, calendar, sessions):
        commits.append(len(batch))
        return original(batch, calendar, sessions)

    writer._commit = counting_commit
    futures = [writer.submit(_submission(credential, f"G-{i}")) for i in range(40)]
    answers = [future.result(timeout=10) for future in futures]
    assert all(a.created for a in answers) and len({a.case.id for a in answers}) == 40
    assert sum(commits) == 40 and len(commits) < 40  # some reports shared a transaction
    assert {a.case.channel_ref for a in answers} == {f"G-{i}" for i in range(40)}
    with world.read() as db:
        assert audit.verify(db).intact
    assert answers[-1].likely_duplicates  # the same place: the earlier reports are suggested


def test_reports_arriving_one_after_another_are_gathered_into_one_batch(world, world_settings, frozen):
    writer = ReportWriter(world, world_settings, linger_seconds=1.0, gather_seconds=5.0)
    credential = _credential(world, world_settings)
    batches = []
    serve = writer._serve
    writer._serve = lambda batch, sessions: batches.append(len(batch)) or serve(batch, sessions)
    first = writer.submit(_submission(credential, "L-1"))
    time.sleep(0.1)  # well within the linger: the writer is still gathering
    second = writer.submit(_submission(credential, "L-2"))
    assert first.result(timeout=10).created and second.result(timeout=10).created
    assert batches == [2]


def test_a_lone_report_waits_one_linger_not_the_whole_gathering(world, world_settings, frozen):
    writer = ReportWriter(world, world_settings, linger_seconds=0.01, gather_seconds=60.0)
    answer = writer.submit(_submission(_credential(world, world_settings), "L-3")).result(timeout=10)
    assert answer.created


def test_each_report_of_a_batch_is_refused_or_answered_on_its_own(world, world_settings, frozen):
    """A bad token, a role that may not report, a point outside the district: each refuses its
    own report only; the rest of the batch is written, a retry answers with its case."""
    writer = ReportWriter(world, world_settings)
    intake_staff, field_staff = _credential(world, world_settings), _credential(world, world_settings, "fieldunit")
    [known] = _served(writer, [_submission(intake_staff, "K-1")])
    answers = _served(writer, [
        _submission(intake_staff, "N-1"),
        _submission(Credential("not-a-token", intake_staff.kinds), "N-2"),
        _submission(field_staff, "N-3"),
        _submission(intake_staff, "N-4", lng=116.0),
        _submission(intake_staff, "K-1"),
        _submission(intake_staff, "N-1"),
    ])
    created, bad_token, wrong_role, outside, retry, repeated = answers
    assert created.created and created.case.channel_ref == "N-1"
    assert isinstance(bad_token, NotAuthenticated) and isinstance(wrong_role, PermissionDenied)
    assert isinstance(outside, OutsideManagedArea)
    assert (retry.created, retry.case.id) == (False, known.case.id)
    assert (repeated.created, repeated.case.id) == (False, created.case.id)
    assert _count(world, Case) == 2 and _count(world, CaseEvent) == 2


def test_a_batch_refused_by_the_database_is_written_report_by_report(world, world_settings, frozen,
                                                                     monkeypatch):
    """Another process wrote one of the batch's references between the batch's checks and its
    insert: the other reports are still written, and that one answers with the existing case."""
    writer = ReportWriter(world, world_settings)
    credential = _credential(world, world_settings)
    [existing] = _served(writer, [_submission(credential, "R-1")])
    real_lookup, lookups = intake.case_ids_by_reference, []

    def lookup_that_misses_once(db, keys):  # the batch's check, before the other process wrote
        lookups.append(keys)
        return {} if len(lookups) == 1 else real_lookup(db, keys)

    monkeypatch.setattr(intake, "case_ids_by_reference", lookup_that_misses_once)
    first, second = _served(writer, [_submission(credential, "R-1"), _submission(credential, "R-2")])
    assert (first.case.id, first.created) == (existing.case.id, False)
    assert second.created and _count(world, Case) == 2


def test_an_error_reaches_every_report_of_the_batch_and_nothing_is_written(world, world_settings, frozen,
                                                                           monkeypatch):
    writer = ReportWriter(world, world_settings)
    credential = _credential(world, world_settings)

    def refuse(db, *, settings):
        raise Conflict("2027 年的节假日安排尚未录入")

    monkeypatch.setattr(intake.calendar_service, "working_calendar", refuse)
    answers = _served(writer, [_submission(credential, f"E-{i}") for i in range(3)])
    assert all(isinstance(answer, Conflict) for answer in answers)
    assert _count(world, Case) == 0 and _count(world, CaseEvent) == 0
