from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from gridgov.grid.components import ComponentStatus
from gridgov.grid.crs import CRS
from gridgov.grid.rules import GridLevel

MAX_BATCH_POINTS = 10_000

Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


class GridLocationOut(BaseModel):
    unit_code: str
    basic_code: str
    community_code: str
    street_code: str
    grid_version: int
    lng: float = Field(description="GCJ-02")
    lat: float = Field(description="GCJ-02")
    crs: CRS = CRS.GCJ02


class LocateBatchIn(BaseModel):
    crs: CRS = CRS.GCJ02
    points: list[tuple[Longitude, Latitude]] = Field(
        min_length=1, max_length=MAX_BATCH_POINTS, description="[经度, 纬度] 对，最多 10,000 个")


class LocatedPointOut(BaseModel):
    index: int
    inside: bool
    unit_code: str | None
    basic_code: str | None
    community_code: str | None
    street_code: str | None
    lng: float = Field(description="GCJ-02")
    lat: float = Field(description="GCJ-02")


class LocateBatchOut(BaseModel):
    grid_version: int
    inside: int
    outside: int
    results: list[LocatedPointOut]


class LevelStatsOut(BaseModel):
    level: GridLevel
    label: str
    count: int
    area_km2: float
    version: int | None
    effective_at: datetime | None


class GridStatsOut(BaseModel):
    grid_version: int
    total_area_km2: float = Field(description="面积最大的层级之和（各层级应相同）")
    levels: list[LevelStatsOut]


class CellOut(BaseModel):
    code: str
    name: str
    level: GridLevel
    level_label: str
    parent_code: str
    basic_code: str | None
    area_m2: float
    point: tuple[float, float] = Field(description="代表点 [经度, 纬度]，坐标系同 crs")
    version_from: int
    version_to: int | None
    valid_from: datetime
    valid_to: datetime | None
    active: bool
    crs: CRS
    geometry: dict[str, Any]


class GridVersionOut(BaseModel):
    version: int
    level: GridLevel
    effective_at: datetime
    imported_at: datetime
    source_name: str | None
    source_crs: CRS
    cells: int
    added: int
    changed: int
    unchanged: int
    retired: int
    actor_name: str


class GridImportOut(BaseModel):
    version: int
    level: GridLevel
    effective_at: datetime
    source_crs: CRS
    cells: int
    added: int
    changed: int
    unchanged: int
    retired: int
    retired_codes: list[str]
    orphaned: int = Field(description="上级或所属基础网格已不在现行网格中的下级网格数")
    orphaned_codes: list[str] = Field(description="最多列出 100 个")
    components_relocated: int


# --- components --------------------------------------------------------------------------


class ComponentClassOut(BaseModel):
    code: str
    name: str
    major_code: str
    major_name: str


class ComponentOut(BaseModel):
    code: str
    name: str
    major_class: str
    minor_class: str
    class_name: str | None
    owner_code: str | None
    owner_name: str | None
    status: ComponentStatus
    status_label: str
    lng: float
    lat: float
    crs: CRS
    unit_grid_code: str | None
    grid_version: int | None


class ComponentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ComponentOut]


class NearestComponentOut(BaseModel):
    code: str
    name: str
    minor_class: str
    class_name: str | None
    owner_code: str | None
    status: ComponentStatus
    status_label: str
    lng: float
    lat: float
    crs: CRS
    unit_grid_code: str | None
    distance_m: float


class ComponentImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
