from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, Field

from gridgov.feedback.rules import ReplyWay, Satisfaction


class ReplyIn(BaseModel):
    reporter_id: int
    text: str = Field(min_length=2, max_length=4000)
    way: ReplyWay
    replied_at: AwareDatetime | None = Field(default=None, description="when it was given; default now")


class ReplyOut(BaseModel):
    id: int
    case_id: int
    reporter_id: int
    text: str
    way: ReplyWay
    way_label: str
    replied_at: datetime
    replied_by: str
    unit_code: str | None


class ReporterFeedbackOut(BaseModel):
    """One reporter of a case: whether a reply is owed, by when, and what was given."""

    reporter_id: int
    name: str | None
    phone: str | None
    channel: str
    reachable: bool
    owed: bool
    due_from: datetime | None
    due_at: datetime | None
    overdue: bool
    replies: list[ReplyOut]


class CallbackIn(BaseModel):
    reporter_id: int
    called_at: AwareDatetime | None = None
    reached: bool
    resolved: bool | None = None
    satisfaction: Satisfaction | None = None
    remarks: str | None = Field(default=None, max_length=2000)


class CallbackOut(BaseModel):
    id: int
    case_id: int
    case_number: str
    reporter_id: int
    sampled_as: str
    called_at: datetime
    caller: str
    reached: bool
    resolved: bool | None
    satisfaction: Satisfaction | None
    satisfaction_label: str | None
    remarks: str | None
    decision: str | None
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


class CallbackDecisionIn(BaseModel):
    reopen: bool
    reason: str = Field(min_length=2, max_length=2000)
    version: int = Field(ge=1, description="the case version the decision is based on")


class CaseFeedbackOut(BaseModel):
    case_id: int
    case_number: str
    status: str
    sampled_as: str | None
    reporters: list[ReporterFeedbackOut]
    callbacks: list[CallbackOut]
    ratings: list["RatingOut"]


class OverdueReplyOut(BaseModel):
    case_id: int
    case_number: str
    reporter_id: int
    street_code: str
    holder_unit_code: str | None
    due_from: datetime
    due_at: datetime


class CallbackDueOut(BaseModel):
    case_id: int
    case_number: str
    channel: str
    sampled_as: str
    closed_at: datetime
    reporter_id: int
    name: str | None
    phone: str | None


class SamplingIn(BaseModel):
    share_percent: Decimal = Field(ge=0, le=100, decimal_places=2)
    effective_from: AwareDatetime | None = None
    reason: str | None = Field(default=None, max_length=500)


class SamplingOut(BaseModel):
    share_percent: Decimal
    effective_from: datetime
    set_by: str
    reason: str | None


class RatingIn(BaseModel):
    rating: str = Field(description="满意 / 基本满意 / 不满意 (or satisfied / basic / unsatisfied)")
    comment: str | None = Field(default=None, max_length=500)


class RatingOut(BaseModel):
    rating: Satisfaction
    rating_label: str
    comment: str | None
    rated_at: datetime


class PublicFeedbackOut(BaseModel):
    """The tracking page's view: replies given (no staff names) and the rating, if any."""

    tracking_code: str
    status_label: str
    can_rate: bool
    replies: list[dict]
    rating: RatingOut | None


CaseFeedbackOut.model_rebuild()
