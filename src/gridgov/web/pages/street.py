"""街道工作台 (street sub-centre): the cases sent to the street, the community and street
reports it coordinates, cases waiting to be whistled, and the street's open whistles."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from gridgov import clock
from gridgov.auth.policy import Action
from gridgov.cases import queries
from gridgov.cases.rules import CaseStatus
from gridgov.http import SessionDep, SettingsDep
from gridgov.org.models import Unit
from gridgov.web import case_actions
from gridgov.web.pages.cases import running_clock
from gridgov.web.pages.whistles import whistle_boxes
from gridgov.web.session import WebUser, page_for
from gridgov.web.templating import render

router = APIRouter()

CASE_BOXES = {"new": "新派至本街道", "returned": "已回退待重新派遣", "due_soon": "即将超时",
              "overdue": "已超时", "to_whistle": "待吹哨（L3）"}
# Reports collected bottom-up in the street (communities, lane chiefs, housekeepers, property
# companies): the street platform files them and dispatches them itself.
BOTTOM_UP_CHANNELS = frozenset({"micro_grid", "lane_chief_patrol", "housekeeper_patrol", "property_report"})
TO_COORDINATE = [CaseStatus.REPORTED, CaseStatus.FILED]


@router.get("/street")
def street_workbench(request: Request, db: SessionDep, settings: SettingsDep,
                     user: WebUser = page_for(Action.WHISTLE_START)) -> Response:
    principal, now = user.principal, clock.utcnow()
    inbox = queries.inbox(db, settings=settings, principal=principal)
    boxes = {name: inbox.get(name, []) for name in CASE_BOXES}
    street = db.get(Unit, principal.unit.street_id)
    reported, _ = queries.search(db, principal=principal, limit=200, filters=queries.CaseFilter(
        status=TO_COORDINATE, street_code=street.code))
    reports = [c for c in reported if c.channel_code in BOTTOM_UP_CHANNELS]
    shown = {c.id: c for cases in (*boxes.values(), reports) for c in cases}
    return render(request, "street/index.html", {
        "street": street, "case_boxes": boxes, "case_labels": CASE_BOXES, "reports": reports,
        "actions": {case_id: case_actions.available(db, principal, case) for case_id, case in shown.items()},
        "clocks": {case_id: running_clock(case, now) for case_id, case in shown.items()},
        "statuses": {s.value: s.label for s in CaseStatus},
        **whistle_boxes(db, user, ("open", "to_report_outcome")),
    }, user=user)
