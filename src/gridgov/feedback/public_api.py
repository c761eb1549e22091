"""The public's side of feedback, by tracking code: the replies given, and one rating after closure."""

from fastapi import APIRouter, status

from gridgov.cases.rules import CaseStatus
from gridgov.feedback import service
from gridgov.feedback.api import rating_out
from gridgov.feedback.models import CaseReply
from gridgov.feedback.rules import ReplyWay
from gridgov.feedback.schemas import PublicFeedbackOut, RatingIn, RatingOut
from gridgov.http import SessionDep
from sqlalchemy import select

router = APIRouter(prefix="/api/v1/public", tags=["public 公众"])


@router.get("/cases/{tracking_code}/feedback", response_model=PublicFeedbackOut)
def public_feedback(tracking_code: str, db: SessionDep) -> PublicFeedbackOut:
    """The replies given to this report's reporter (text, way, time; no staff names) and its rating."""
    tracked, case = service.tracked_case(db, tracking_code)
    reporter_ids = [r.id for r in case.reporters if r.original_case_id == tracked.id]
    replies = db.scalars(select(CaseReply).where(CaseReply.reporter_id.in_(reporter_ids))
                         .order_by(CaseReply.id)) if reporter_ids else []
    rating = next((r for r in service.ratings_of(db, case) if r.tracked_case_id == tracked.id), None)
    return PublicFeedbackOut(
        tracking_code=tracked.tracking_code, status_label=CaseStatus(case.status).label,
        can_rate=case.status == CaseStatus.CLOSED and rating is None,
        replies=[{"text": r.text, "way": ReplyWay(r.way).label, "replied_at": r.replied_at} for r in replies],
        rating=rating_out(rating) if rating else None)


@router.post("/cases/{tracking_code}/rating", response_model=RatingOut, status_code=status.HTTP_201_CREATED)
def rate_case(tracking_code: str, body: RatingIn, db: SessionDep) -> RatingOut:
    """满意 / 基本满意 / 不满意, once per tracking code, only after the case is closed."""
    return rating_out(service.rate(db, tracking_code=tracking_code, data=body))
