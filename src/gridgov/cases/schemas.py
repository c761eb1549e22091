from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from gridgov.calendar.rules import LimitUnit
from gridgov.cases.rules import CaseStatus, Grade
from gridgov.grid.crs import CRS


class ReportIn(BaseModel):
    """A report from any channel. Place it by a point (with its coordinate system) or a unit grid code."""

    channel: str = Field(max_length=32)
    channel_ref: str | None = Field(default=None, max_length=64, description="the channel's own id (工单号)")
    reported_at: AwareDatetime | None = None
    reporter_name: str | None = Field(default=None, max_length=100)
    reporter_phone: str | None = Field(default=None, max_length=32, pattern=r"^[0-9+\-() ]{3,32}$")
    description: str = Field(min_length=2, max_length=4000)
    address: str | None = Field(default=None, max_length=300)
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    crs: CRS = CRS.GCJ02
    grid_code: str | None = Field(default=None, max_length=15)
    type_code: str | None = Field(default=None, max_length=16)

    @model_validator(mode="after")
    def _placed(self) -> "ReportIn":
        if (self.lng is None) != (self.lat is None):
            raise ValueError("经度和纬度须同时提供")
        if self.lng is None and not self.grid_code:
            raise ValueError("请在地图上标出位置（经纬度）或填写单元网格编码")
        return self


class TransitionFields(BaseModel):
    """What a transition needs; each transition requires its own fields (see GET /api/v1/cases/transitions)."""

    reason: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    result: str | None = Field(default=None, max_length=4000)
    type_code: str | None = Field(default=None, max_length=16)
    grade: Grade | None = None
    unit_code: str | None = Field(default=None, max_length=32)
    into_case_id: int | None = None
    before_photo: int | None = Field(default=None, description="attachment id")
    after_photo: int | None = Field(default=None, description="attachment id")
    attachment_ids: list[int] = Field(default_factory=list, max_length=20)
    extra_value: Decimal | None = Field(default=None, gt=0, le=1000)
    extra_unit: LimitUnit | None = None
    approved: bool | None = None


class TransitionIn(TransitionFields):
    """One case's transition, based on the version of the case the actor saw."""

    version: int = Field(ge=1, description="the case version this change is based on")


MAX_BATCH = 500


class CaseVersion(BaseModel):
    id: int
    version: int = Field(ge=1, description="the case version this change is based on")


class BatchTransitionIn(TransitionFields):
    """One transition with the same fields for many cases (批量签收、批量结案 ...): all or none."""

    cases: list[CaseVersion] = Field(min_length=1, max_length=MAX_BATCH)


class BatchMoved(BaseModel):
    id: int
    number: str
    status: CaseStatus
    version: int


class ReporterOut(BaseModel):
    name: str | None
    phone: str | None
    channel: str
    channel_ref: str
    reported_at: datetime


class ClockOut(BaseModel):
    node: str
    node_label: str
    unit_code: str | None
    started_at: datetime
    deadline_at: datetime
    limit: str
    state: str
    fraction_used: float | None
    finished_at: datetime | None
    extended: bool


class CaseOut(BaseModel):
    id: int
    number: str
    tracking_code: str
    channel: str
    channel_ref: str
    status: CaseStatus
    status_label: str
    grade: Grade | None
    urgent: bool
    supervised: bool
    type_code: str | None
    domain: str | None
    description: str
    address: str | None
    lng: float
    lat: float
    unit_grid_code: str
    basic_grid_code: str
    community_code: str
    street_code: str
    holder_unit_code: str | None
    responsible_unit_code: str | None
    reported_at: datetime
    closed_at: datetime | None
    close_kind: str | None
    version: int
    reporters: list[ReporterOut]
    clocks: list[ClockOut]


class EventOut(BaseModel):
    id: int
    transition: str
    transition_label: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    actor_name: str
    role: str | None
    unit_code: str | None
    target_unit_code: str | None
    reason: str | None
    payload: dict
    occurred_at: datetime


class ReportAccepted(BaseModel):
    case: CaseOut
    created: bool = Field(description="false when the same channel reference was reported before")
    likely_duplicates: list["DuplicateOut"]


class DuplicateOut(BaseModel):
    id: int
    number: str
    status: CaseStatus
    type_code: str | None
    description: str
    distance_m: float
    reported_at: datetime


class AttachmentOut(BaseModel):
    id: int
    kind: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class PublicCaseOut(BaseModel):
    """What anyone holding the tracking code sees: progress, never personal data."""

    tracking_code: str
    number: str
    status_label: str
    description: str
    address: str | None
    reported_at: datetime
    closed_at: datetime | None
    progress: list[dict]
