from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from gridgov.catalog.rules import CATEGORIES, DOMAIN_NAMES, GRADES, LIMIT_UNITS, URGENCIES


class TimeLimitIn(BaseModel):
    value: Decimal = Field(max_digits=12, decimal_places=4)
    unit: str = Field(max_length=20, description="、".join(LIMIT_UNITS))


class MatterTypeBody(BaseModel):
    """A matter type's versioned content; the code comes from the path or `MatterTypeIn`."""

    # Shapes only: `catalog.rules.validate_matter_type` checks the values, in Chinese.
    name: str = Field(max_length=100)
    domain: str = Field(max_length=32, description="、".join(DOMAIN_NAMES))
    category: str = Field(max_length=20, description="、".join(CATEGORIES))
    major_class: str = Field(max_length=8, description="大类，两位数字")
    minor_class: str = Field(max_length=8, description="小类，四位数字")
    keywords: list[str] = Field(max_length=50)
    filing_condition: str = Field(max_length=2000)
    closing_condition: str = Field(max_length=2000)
    time_limit: TimeLimitIn
    urgency: str = Field(max_length=10, description="、".join(URGENCIES))
    default_grade: str = Field(max_length=4, description="、".join(GRADES))
    change_note: str | None = Field(default=None, max_length=200,
                                    description="why this version (kept with the version)")


class MatterTypeIn(MatterTypeBody):
    code: str = Field(min_length=1, max_length=16)


class TimeLimitOut(BaseModel):
    value: Decimal
    unit: str
    text: str  # e.g. "4 工作小时"


class MatterTypeVersionOut(BaseModel):
    id: int  # the version id a case records
    code: str
    version: int
    name: str
    domain: str
    domain_name: str
    category: str
    major_class: str
    minor_class: str
    keywords: list[str]
    filing_condition: str
    closing_condition: str
    time_limit: TimeLimitOut
    urgency: str
    urgent: bool
    default_grade: str
    valid_from: datetime
    valid_to: datetime | None
    change_note: str | None


class MatterTypeDetail(BaseModel):
    code: str
    retired: bool
    current: MatterTypeVersionOut | None  # None when retired
    versions: list[MatterTypeVersionOut]  # newest first


class MatterTypePage(BaseModel):
    items: list[MatterTypeVersionOut]
    total: int
    limit: int
    offset: int


class RetireIn(BaseModel):
    reason: str | None = Field(default=None, max_length=200)


class DomainOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    type_code_prefixes: str


class ClassOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    domain: str
    category: str
    code: str
    name: str
    major_code: str | None
    source: str


class AreaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    street_code: str
    note: str


class DutyRuleIn(BaseModel):
    rule_id: str | None = Field(default=None, max_length=32,
                                description="R0001 …; given the next free number when omitted")
    type_code: str = Field(min_length=1, max_length=16)
    street_code: str | None = Field(default=None, max_length=32)
    owner_code: str | None = Field(default=None, max_length=32)
    area: str | None = Field(default=None, max_length=100)
    unit_code: str = Field(min_length=1, max_length=32)
    per_street_field_unit: bool = False
    note: str = Field(default="", max_length=200)
    active: bool = True


class DutyRulePatch(BaseModel):
    street_code: str | None = Field(default=None, max_length=32)
    owner_code: str | None = Field(default=None, max_length=32)
    area: str | None = Field(default=None, max_length=100)
    unit_code: str | None = Field(default=None, min_length=1, max_length=32)
    per_street_field_unit: bool | None = None
    note: str | None = Field(default=None, max_length=200)
    active: bool | None = None


class DutyRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule_id: str
    type_code: str
    street_code: str | None
    owner_code: str | None
    area: str | None
    unit_code: str
    per_street_field_unit: bool
    note: str
    active: bool
    updated_at: datetime


class DutyRulePage(BaseModel):
    items: list[DutyRuleOut]
    total: int
    limit: int
    offset: int


class DutyAnswer(BaseModel):
    """Who handles a case of `type_code` in `street_code`, and why."""

    type_code: str
    street_code: str
    owner_code: str | None
    area: str | None
    unit_code: str  # a real unit: department, utility, field unit, or the street (属地兜底)
    unit_name: str
    rule_id: str | None  # None for 属地兜底
    fallback: bool  # True: no rule applies, the local street handles it
    explanation: str


class ImportReport(BaseModel):
    types_created: int = 0
    types_versioned: int = 0  # a new version of an existing (or retired) type
    types_unchanged: int = 0
    rules_created: int = 0
    rules_updated: int = 0
    rules_unchanged: int = 0
    classes_written: int = 0
    areas_written: int = 0


class CatalogStats(BaseModel):
    types: int
    retired: int
    rules: int
    active_rules: int
    per_domain: dict[str, int]
    per_grade: dict[str, int]
