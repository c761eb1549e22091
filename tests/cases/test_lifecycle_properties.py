"""Random legal and illegal transition sequences never bypass the table or break the audit chain."""

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, func, select

from gridgov.audit import service as audit
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.cases import intake, service
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.rules import TRANSITIONS, CaseStatus
from gridgov.cases.schemas import ReportIn, TransitionIn
from gridgov.errors import DomainError
from tests.cases.conftest import CASE_TABLES
from tests.cases.flow import DONGHUAMEN, ILLEGAL_STRUCTURE

ACTORS = ("intake", "dispatcher", "fieldunit", "department", "supervisor", "street", "citizen")
FULL_PAYLOAD = {
    "type_code": ILLEGAL_STRUCTURE, "unit_code": "D002-01", "reason": "理由", "note": "核查意见",
    "result": "已处置", "extra_value": "1", "extra_unit": "working_days", "approved": True,
}
steps = st.lists(
    st.tuples(st.sampled_from(sorted(TRANSITIONS)), st.sampled_from(ACTORS),
              st.sets(st.sampled_from(sorted(FULL_PAYLOAD)))),
    min_size=1, max_size=14)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_random_sequences_only_ever_follow_the_table(world, world_settings, frozen, sequence):
    with world.engine.begin() as conn:
        for model in CASE_TABLES:
            conn.execute(delete(model))
    with world.write() as db:
        reporter = auth.principal_for(db, db.scalar(select(User).where(User.username == "intake")))
        case = intake.report(db, settings=world_settings, actor=auth.actor_for(
            db.get(User, reporter.user_id), None), data=ReportIn(
            channel="hotline_12345", channel_ref="P-1", description="随机序列", lng=DONGHUAMEN[0],
            lat=DONGHUAMEN[1])).case
        case_id = case.id
    for name, username, fields in sequence:
        with world.write() as db:
            principal = auth.principal_for(db, db.scalar(select(User).where(User.username == username)))
            before = db.get(Case, case_id)
            status, version = CaseStatus(before.status), before.version
            events = db.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
            payload = {field: FULL_PAYLOAD[field] for field in fields}
            try:
                service.transition(db, settings=world_settings, principal=principal, case_id=case_id,
                                   name=name, data=TransitionIn(version=version, **payload))
                accepted = True
            except DomainError:
                db.rollback()
                accepted = False
        with world.read() as db:
            after = db.get(Case, case_id)
            events_after = db.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
        if accepted:
            assert status in TRANSITIONS[name].sources
            assert after.version == version + 1 and events_after == events + 1
        else:
            assert (CaseStatus(after.status), after.version, events_after) == (status, version, events)
    with world.read() as db:
        assert audit.verify(db).intact
