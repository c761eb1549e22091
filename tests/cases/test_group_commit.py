"""Intake's batched write and group commit: many reports, one transaction, each answered on its own."""

from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from gridgov.audit import service as audit
from gridgov.audit.models import AuditEvent
from gridgov.cases import intake
from gridgov.cases.group_commit import ReportWriter
from gridgov.cases.models import Case, CaseClock, CaseEvent, CaseReporter
from gridgov.errors import Conflict
from gridgov.cases.schemas import ReportIn
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


def test_reports_submitted_together_are_committed_together_and_each_is_answered(world, world_settings, frozen):
    writer = ReportWriter(world, world_settings)
    reports = [placed(world, f"G-{i}") for i in range(40)]
    commits = []
    original = writer._commit

    def counting_commit(batch):
        commits.append(len(batch))
        return original(batch)

    writer._commit = counting_commit
    with ThreadPoolExecutor(max_workers=20) as pool:
        written = list(pool.map(writer.submit, reports))
    assert all(w.created for w in written) and len({w.case_id for w in written}) == 40
    assert sum(commits) == 40 and len(commits) < 40  # some reports shared a transaction
    with world.read() as db:
        refs = {db.get(Case, w.case_id).channel_ref for w in written}
        assert audit.verify(db).intact
    assert refs == {f"G-{i}" for i in range(40)}


def test_a_batch_refused_by_the_database_is_written_report_by_report(world, world_settings, frozen,
                                                                     monkeypatch):
    """Another process wrote one of the batch's references between the batch's check and its
    insert: the other reports are still written, and that one answers with the existing case."""
    writer = ReportWriter(world, world_settings)
    taken = placed(world, "R-1")
    with world.write() as db:
        [existing] = intake.write(db, settings=world_settings, reports=[taken])
        db.commit()
    real_lookup, lookups = intake.case_ids_by_reference, []

    def lookup_that_misses_the_first_time(db, keys):
        lookups.append(keys)
        return {} if len(lookups) == 1 else real_lookup(db, keys)

    monkeypatch.setattr(intake, "case_ids_by_reference", lookup_that_misses_the_first_time)
    batch = [(taken, Future()), (placed(world, "R-2"), Future())]
    writer._write(batch)
    first, second = (future.result(timeout=5) for _, future in batch)
    assert (first.case_id, first.created) == (existing.case_id, False)
    assert second.created and _count(world, Case) == 2


def test_an_error_reaches_every_report_of_the_batch_and_nothing_is_written(world, world_settings, frozen,
                                                                           monkeypatch):
    writer = ReportWriter(world, world_settings)

    def refuse(db, *, settings):
        raise Conflict("2027 年的节假日安排尚未录入")

    monkeypatch.setattr(intake.calendar_service, "working_calendar", refuse)
    batch = [(placed(world, f"E-{i}"), Future()) for i in range(3)]
    writer._write(batch)
    for _, future in batch:
        with pytest.raises(Conflict):
            future.result(timeout=5)
    assert _count(world, Case) == 0 and _count(world, CaseEvent) == 0

