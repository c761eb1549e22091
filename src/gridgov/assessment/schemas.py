from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class WeightSetIn(BaseModel):
    unit_kind: str = Field(description="department | street | outside_body")
    valid_from: str = Field(description="first month it applies to, YYYY-MM")
    weights: dict[str, Decimal] = Field(description="indicator -> percent; the percentages sum to 100")
    note: str | None = Field(default=None, max_length=500)


class WeightSetOut(BaseModel):
    id: int | None
    unit_kind: str
    valid_from: str | None
    weights: dict[str, Decimal]
    created_by: str | None
    created_at: datetime | None
    note: str | None


class IndicatorOut(BaseModel):
    key: str
    label: str
    kind: str  # count | rate | score
    better: str | None
    numerator: str
    denominator: str | None
    formula: str
    unit_kinds: list[str]
    source: str


class CaseSetOut(BaseModel):
    key: str
    label: str
    definition: str


class RunIn(BaseModel):
    month: str = Field(description="YYYY-MM")
    reason: str | None = Field(default=None, max_length=1000, description="required to recalculate a published month")


class FigureOut(BaseModel):
    indicator: str
    label: str
    numerator: int | None
    denominator: int | None
    value: Decimal | None
    score: Decimal | None


class UnitScoreOut(BaseModel):
    unit_code: str
    unit_name: str
    unit_kind: str
    composite: Decimal | None
    rank: int | None
    figures: list[FigureOut]


class RunOut(BaseModel):
    month: str
    version: int | None
    status: str  # draft | published | superseded | preview
    computed_at: datetime
    computed_by: str | None
    reason: str | None
    published_at: datetime | None
    published_by: str | None
    whistle_included: bool
    weights: dict[str, dict[str, Decimal]]


class MonthOut(RunOut):
    units: list[UnitScoreOut]


class DrillCaseOut(BaseModel):
    id: int
    number: str
    items: int


class DrillDownOut(BaseModel):
    month: str
    unit_code: str
    indicator: str
    part: str
    case_set: str
    definition: str
    total: int = Field(description="the set's size now, all cases")
    stored: int | None = Field(description="the figure in the stored version (published, or the one asked for)")
    version: int | None
    matches_stored: bool | None
    visible: int = Field(description="how many of the cases the caller may see (listed)")
    cases: list[DrillCaseOut]
