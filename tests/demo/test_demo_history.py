"""The demo history is made through the real services: every case's state is its last event's,
the audit chain holds, and loading twice writes nothing."""

from sqlalchemy import func, select

from gridgov.audit import service as audit
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth.models import User
from gridgov.cases.channels import load_demo_channels
from gridgov.cases.models import Case, CaseEvent
from gridgov.catalog.demo import load_demo_catalog
from gridgov.demo import loader
from gridgov.demo.history import load_demo_history
from gridgov.grid.demo import load_demo_grid


def test_the_demo_history_replays_real_lifecycles_up_to_now(database, settings):
    with database.write() as db:
        loader.load_demo_organisation(db)
    for load in (load_demo_grid, load_demo_catalog, load_demo_channels):
        with database.write() as db:
            load(db, actor=SYSTEM_ACTOR)
    with database.write() as db:
        loader.load_demo_accounts(db, settings=settings)

    made, skipped = load_demo_history(database, settings=settings, days=6, per_day=5)

    assert made == 30 and skipped == 0
    with database.read() as db:
        statuses = {case.id: case.status for case in db.scalars(select(Case))}
        last_event = dict(db.execute(select(CaseEvent.case_id, CaseEvent.to_status).where(
            CaseEvent.id.in_(select(func.max(CaseEvent.id)).group_by(CaseEvent.case_id)))).all())
        assert statuses == last_event
        assert {"closed", "rejected"} & set(statuses.values())
        assert db.scalar(select(func.count()).select_from(User).where(User.username.startswith("demo-"))) > 0
        assert audit.verify(db).intact
    assert load_demo_history(database, settings=settings, days=6, per_day=5) is None
