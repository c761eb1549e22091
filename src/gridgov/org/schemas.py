from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from gridgov.org.rules import UnitKind


class UnitIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    short_name: str | None = Field(default=None, max_length=60)
    kind: UnitKind
    parent_code: str | None = None
    serves_street_code: str | None = None
    valid_from: date
    valid_to: date | None = None


class UnitPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    short_name: str | None = Field(default=None, max_length=60)
    valid_to: date | None = None


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    short_name: str | None
    kind: UnitKind
    kind_label: str
    parent_id: int | None
    parent_code: str | None
    serves_street_code: str | None
    valid_from: date
    valid_to: date | None


class ImportReport(BaseModel):
    created: int
    updated: int
