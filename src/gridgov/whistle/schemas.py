from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from gridgov.grid.crs import CRS
from gridgov.whistle.rules import Urgency


# --- situations --------------------------------------------------------------------------

class TimeLimitIn(BaseModel):
    value: Any = Field(description="a positive number, e.g. 30 or 0.5")
    unit: str = Field(description="natural_minutes, natural_hours, working_hours, working_days …")


class SituationBody(BaseModel):
    """A situation's content. Values are checked by the service, which lists every problem."""

    area: str = Field(description="enforcement | key_work | emergency | fallback (or 综合执法 …)")
    name: str
    description: str
    start_standard: str = Field(description="启动标准: when a street may whistle for this situation")
    department_codes: list[str] = Field(description="units usually summoned (suggested on start)")
    time_limit: TimeLimitIn = Field(description="report-in time limit (报到时限)")
    legal_basis: str
    demo: bool = False
    active: bool = True


class SituationIn(SituationBody):
    code: str


class RetireIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class UnitBrief(BaseModel):
    code: str
    name: str
    kind: str


class SituationOut(BaseModel):
    id: int
    code: str
    area: str
    area_label: str
    name: str
    description: str
    start_standard: str
    departments: list[UnitBrief]
    time_limit: dict[str, Any]  # value, unit, text
    legal_basis: str
    demo: bool
    active: bool
    retired_at: datetime | None
    retire_reason: str | None


class SituationImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int


# --- whistles ----------------------------------------------------------------------------

class DepartmentIn(BaseModel):
    unit_code: str = Field(max_length=32)
    task: str = Field(min_length=1, max_length=2000, description="what the street asks of it")


class WhistleStartIn(BaseModel):
    """Start a whistle: on a case waiting to be whistled, or (key work, emergency) without one.

    Place it by a point (with its coordinate system); on a case it defaults to the case's place."""

    situation_code: str = Field(max_length=16)
    case_id: int | None = None
    case_version: int | None = Field(default=None, ge=1, description="the case version seen, if any")
    departments: list[DepartmentIn] = Field(min_length=1, max_length=30)
    urgency: Urgency = Urgency.NORMAL
    title: str = Field(min_length=2, max_length=200)
    description: str = Field(min_length=2, max_length=4000)
    address: str | None = Field(default=None, max_length=300)
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    crs: CRS = CRS.GCJ02
    assemble_at: AwareDatetime | None = Field(default=None, description="time to assemble (集结时间)")

    @model_validator(mode="after")
    def _placed(self) -> "WhistleStartIn":
        if (self.lng is None) != (self.lat is None):
            raise ValueError("经度和纬度须同时提供")
        return self


class RatingIn(BaseModel):
    """The street's rating of one department: four points 1–5; a comment for any mark ≤ 2."""

    summons_id: int
    efficiency: Any = None
    cooperation: Any = None
    professionalism: Any = None
    responsibility: Any = None
    comment: str | None = Field(default=None, max_length=2000)


class WhistleTransitionIn(BaseModel):
    """What a step needs; see GET /api/v1/whistles/transitions. `version` is the whistle's
    version, or for a department's step on its summons (report_in, finish_part) the summons'."""

    version: int = Field(ge=1)
    summons_id: int | None = None
    reason: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    departments: list[DepartmentIn] = Field(default_factory=list, max_length=30)
    # report_in (报到): where, who leads, how many people, what forces; when they say they arrived
    place: str | None = Field(default=None, max_length=300)
    leader: str | None = Field(default=None, max_length=100)
    headcount: int | None = Field(default=None, ge=1, le=10000)
    forces: str | None = Field(default=None, max_length=2000)
    arrived_at: AwareDatetime | None = None
    # finish_part
    result: str | None = Field(default=None, max_length=4000)
    attachment_ids: list[int] = Field(default_factory=list, max_length=20)
    # report_outcome
    outcome: str | None = Field(default=None, max_length=4000)
    ratings: list[RatingIn] = Field(default_factory=list, max_length=30)
    reply_text: str | None = Field(default=None, max_length=2000)
    reply_way: str | None = Field(default=None, max_length=16)


class ClockOut(BaseModel):
    node: str
    node_label: str
    summons_id: int | None
    unit_code: str | None
    started_at: datetime
    deadline_at: datetime
    limit: str
    state: str  # running | overdue | on_time | late
    finished_at: datetime | None


class SummonsOut(BaseModel):
    id: int
    unit_code: str
    unit_name: str
    task: str
    added_by: str
    status: str
    status_label: str
    sent_at: datetime | None
    report_in_due_at: datetime | None
    cutoff_at: datetime | None
    reported_in_at: datetime | None
    reported_by_unit_code: str | None
    arrived_at: datetime | None
    arrival_place: str | None
    leader: str | None
    headcount: int | None
    forces: str | None
    done_at: datetime | None
    result: str | None
    assessment: str | None
    lateness: float | None
    responsiveness: float | None
    ratings: dict[str, int] | None
    rating_comment: str | None
    version: int


class SituationRef(BaseModel):
    code: str
    name: str
    area: str
    area_label: str
    time_limit: str
    active: bool  # false once the situation was retired


class WhistleOut(BaseModel):
    id: int
    number: str
    status: str
    status_label: str
    street_code: str
    street_name: str
    community_code: str
    started_by_unit_code: str
    case_id: int | None
    case_number: str | None
    situation: SituationRef
    urgency: str
    title: str
    description: str
    address: str | None
    lng: float
    lat: float
    unit_grid_code: str
    assemble_at: datetime | None
    started_at: datetime
    summoned_at: datetime | None
    outcome: str | None
    outcome_at: datetime | None
    reply_text: str | None
    reply_way: str | None
    replied_at: datetime | None
    close_note: str | None
    closed_at: datetime | None
    cancel_reason: str | None
    cancelled_at: datetime | None
    version: int
    summons: list[SummonsOut]
    clocks: list[ClockOut]


class WhistleBrief(BaseModel):
    id: int
    number: str
    status: str
    status_label: str
    street_code: str
    situation_code: str
    situation_name: str
    urgency: str
    title: str
    case_id: int | None
    started_at: datetime
    version: int


class WhistlePage(BaseModel):
    items: list[WhistleBrief]
    next_after: int | None
    total: int


class WhistleEventOut(BaseModel):
    id: int
    transition: str
    transition_label: str
    summons_id: int | None
    from_status: str | None
    to_status: str
    actor_name: str
    role: str | None
    unit_code: str | None
    target_unit_code: str | None
    reason: str | None
    payload: dict
    occurred_at: datetime


class AttachmentOut(BaseModel):
    id: int
    summons_id: int | None
    kind: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class TransitionInfo(BaseModel):
    name: str
    label: str
    sources: list[str]
    target: str
    action: str
    on_summons: bool
    summons_sources: list[str]
    required: list[str]


# --- assessment --------------------------------------------------------------------------

class AssessmentRecordOut(BaseModel):
    """一哨一考: one summoned department's record in one whistle."""

    summons_id: int
    unit_code: str
    unit_name: str
    status: str
    assessment: str | None
    assessment_label: str | None
    sent_at: datetime | None
    report_in_due_at: datetime | None
    reported_in_at: datetime | None
    lateness: float | None
    responsiveness: float | None
    ratings: dict[str, int] | None
    rating_average: float | None
    rating_comment: str | None
    final: bool


class UnitFiguresOut(BaseModel):
    unit_code: str
    unit_name: str
    role: str  # department | street
    whistles: int
    summons: int
    assessed: int
    on_time: int
    late: int
    missed: int
    on_time_rate: float | None
    responsiveness: float | None
    ratings: dict[str, float | None]
    rating_average: float | None
    rated: int
    open: int
    overdue: int
    closed: int
    cancelled: int
    score: float | None


class FiguresOut(BaseModel):
    start: datetime
    end: datetime
    units: list[UnitFiguresOut]


class DrillItem(BaseModel):
    id: int
    number: str


class DrillOut(BaseModel):
    unit_code: str
    figure: str
    start: datetime
    end: datetime
    whistles: list[DrillItem]
