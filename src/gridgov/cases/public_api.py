"""What the public sees without signing in: a report's progress by its tracking code."""

from fastapi import APIRouter
from sqlalchemy import select

from gridgov.cases import views
from gridgov.cases.models import Case
from gridgov.cases.schemas import PublicCaseOut
from gridgov.errors import NotFound
from gridgov.http import SessionDep

router = APIRouter(prefix="/api/v1/public", tags=["public 公众"])


@router.get("/cases/{tracking_code}", response_model=PublicCaseOut)
def track_case(tracking_code: str, db: SessionDep) -> PublicCaseOut:
    """Progress and reply of a report; no one's name, phone or handling staff."""
    case = db.scalar(select(Case).where(Case.tracking_code == tracking_code.strip().upper()))
    if case is None:
        raise NotFound("查询码不存在，请核对后重试")
    return views.public_out(db, case)
