"""立即处置: the finder's report, its before/after photos and the self-handling are one transaction."""

import pytest
from sqlalchemy import func, select

from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.cases import service
from gridgov.cases.models import Attachment, Case, CaseEvent
from gridgov.cases.schemas import ReportIn
from gridgov.errors import PermissionDenied
from tests.cases.flow import DONGHUAMEN, ILLEGAL_STRUCTURE, png


def _handle(world, world_settings, username: str, channel: str) -> Case:
    with world.write() as db:
        user = db.scalar(select(User).where(User.username == username))
        principal = auth.principal_for(db, user)
        data = ReportIn(channel=channel, description="楼道口堆放杂物", lng=DONGHUAMEN[0], lat=DONGHUAMEN[1],
                        type_code=ILLEGAL_STRUCTURE)
        return service.handle_on_the_spot(db, settings=world_settings, principal=principal,
                                          actor=auth.actor_for(user, None), data=data, before=png(),
                                          after=png(), result="已清理")


def _counts(world) -> tuple[int, int, int]:
    with world.read() as db:
        return tuple(db.scalar(select(func.count()).select_from(model)) for model in (Case, Attachment, CaseEvent))


def test_a_supervisor_handles_a_problem_on_the_spot_in_one_step(world, world_settings, frozen):
    case = _handle(world, world_settings, "supervisor", "supervisor_patrol")
    with world.read() as db:
        case = db.get(Case, case.id)
        kinds = sorted(db.scalars(select(Attachment.kind).where(Attachment.case_id == case.id)))
        events = list(db.scalars(select(CaseEvent.transition).where(CaseEvent.case_id == case.id)
                                 .order_by(CaseEvent.id)))
    assert (case.status, case.grade, case.close_kind) == ("closed", "L1", "self_handled")
    assert kinds == ["after", "before"] and events == ["report", "self_handle"]


def test_a_refused_self_handling_leaves_no_case_photo_or_event(world, world_settings, frozen):
    before = _counts(world)
    with pytest.raises(PermissionDenied):
        # 东华门大街 is outside the housekeeper's community (多福巷)
        _handle(world, world_settings, "community", "housekeeper_patrol")
    assert _counts(world) == before
