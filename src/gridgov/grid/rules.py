"""Grid levels, their codes and the record every level shares. Pure: no I/O.

Codes follow GB/T 2260 (county), GB/T 10114 (street, community) and Beijing's local
standard for unit grids (DB11): each code starts with its parent's code.

| level     | code                                   | digits | parent_code    |
|-----------|----------------------------------------|--------|----------------|
| street    | county(6) + street(3)                  | 9      | county (6)     |
| community | street(9) + community(3)               | 12     | street (9)     |
| basic     | community(12) + basic grid(2)          | 14     | community (12) |
| unit      | community(12) + sequence(3)            | 15     | community (12) |

A unit grid also carries `basic_code`, the one basic grid it lies in; that basic grid must
belong to the same community (its first 12 digits equal the unit grid's).
"""

from dataclasses import dataclass
from enum import StrEnum

from shapely import Polygon

from gridgov.errors import DomainError


class GridLevel(StrEnum):
    STREET = "street"
    COMMUNITY = "community"
    BASIC = "basic"
    UNIT = "unit"

    @property
    def label(self) -> str:
        return GRID_LEVEL_LABELS[self]

    @property
    def code_length(self) -> int:
        return CODE_LENGTHS[self]

    @property
    def parent_code_length(self) -> int:
        return PARENT_CODE_LENGTHS[self]


GRID_LEVEL_LABELS: dict[GridLevel, str] = {
    GridLevel.STREET: "街道",
    GridLevel.COMMUNITY: "社区",
    GridLevel.BASIC: "基础网格",
    GridLevel.UNIT: "单元网格",
}
CODE_LENGTHS: dict[GridLevel, int] = {
    GridLevel.STREET: 9,
    GridLevel.COMMUNITY: 12,
    GridLevel.BASIC: 14,
    GridLevel.UNIT: 15,
}
PARENT_CODE_LENGTHS: dict[GridLevel, int] = {
    GridLevel.STREET: 6,
    GridLevel.COMMUNITY: 9,
    GridLevel.BASIC: 12,
    GridLevel.UNIT: 12,
}
COUNTY_CODE_LENGTH = 6
COMMUNITY_CODE_LENGTH = CODE_LENGTHS[GridLevel.COMMUNITY]


class OutsideManagedArea(DomainError):
    """A position lies in no unit grid of the managed area."""

    status = 422
    code = "outside-managed-area"
    title = "位置不在管辖范围内"

    def __init__(self, lng: float, lat: float):
        super().__init__(f"位置不在管辖范围内（经度 {lng:.7f}，纬度 {lat:.7f}）", lng=lng, lat=lat)
        self.lng = lng
        self.lat = lat


@dataclass(frozen=True)
class GridCell:
    """One grid polygon of any level; `polygon` is in GCJ-02 lng/lat."""

    level: GridLevel
    code: str
    name: str
    parent_code: str
    basic_code: str | None
    polygon: Polygon

    @property
    def community_code(self) -> str | None:
        if self.level in (GridLevel.BASIC, GridLevel.UNIT):
            return self.code[:COMMUNITY_CODE_LENGTH]
        if self.level is GridLevel.COMMUNITY:
            return self.code
        return None

    @property
    def street_code(self) -> str:
        return self.code[: CODE_LENGTHS[GridLevel.STREET]]


def code_problem(level: GridLevel, code: object) -> str | None:
    """Why `code` is not a well-formed code of `level`, in Chinese; None when it is."""
    level = GridLevel(level)
    label = level.label
    if code is None or code == "":
        return f"缺少{label}编码"
    if not isinstance(code, str):
        return f"{label}编码必须是数字字符串，收到 {type(code).__name__}"
    if not code.isascii() or not code.isdigit():
        return f"{label}编码“{code}”只能包含数字 0-9"
    if len(code) != level.code_length:
        return f"{label}编码“{code}”应为 {level.code_length} 位，实际 {len(code)} 位"
    own = code[level.parent_code_length:]
    if int(own) == 0:
        return f"{label}编码“{code}”的本级序号不能全为 0"
    if int(code[:COUNTY_CODE_LENGTH]) % 100 == 0:
        return f"{label}编码“{code}”的前 6 位“{code[:6]}”不是区县代码"
    if level is not GridLevel.STREET:
        street_seq = code[COUNTY_CODE_LENGTH:CODE_LENGTHS[GridLevel.STREET]]
        if int(street_seq) == 0:
            return f"{label}编码“{code}”中的街道序号不能为 000"
    if level in (GridLevel.BASIC, GridLevel.UNIT):
        community_seq = code[CODE_LENGTHS[GridLevel.STREET]:COMMUNITY_CODE_LENGTH]
        if int(community_seq) == 0:
            return f"{label}编码“{code}”中的社区序号不能为 000"
    return None


def is_valid_code(level: GridLevel, code: object) -> bool:
    return code_problem(level, code) is None


def parent_code_prefix(level: GridLevel, code: str) -> str:
    """The parent's code that `code` starts with (county code for a street)."""
    return code[: GridLevel(level).parent_code_length]


def parent_problem(level: GridLevel, code: str, parent_code: object) -> str | None:
    """Why `parent_code` cannot be the parent of well-formed `code`; None when it can."""
    level = GridLevel(level)
    expected = parent_code_prefix(level, code)
    if parent_code != expected:
        return (f"{level.label}“{code}”的上级编码应为“{expected}”（编码前 "
                f"{level.parent_code_length} 位），实际为“{parent_code}”")
    return None


def basic_code_problem(unit_code: str, basic_code: object) -> str | None:
    """Why a unit grid cannot lie in `basic_code`; None when it can."""
    problem = code_problem(GridLevel.BASIC, basic_code)
    if problem is not None:
        return f"单元网格“{unit_code}”的所属基础网格编码无效：{problem}"
    assert isinstance(basic_code, str)
    if basic_code[:COMMUNITY_CODE_LENGTH] != unit_code[:COMMUNITY_CODE_LENGTH]:
        return (f"单元网格“{unit_code}”与所属基础网格“{basic_code}”不在同一社区"
                f"（前 {COMMUNITY_CODE_LENGTH} 位应相同）")
    return None


def cell_problems(cell: GridCell) -> list[str]:
    """Every code inconsistency of one record, in Chinese."""
    problem = code_problem(cell.level, cell.code)
    if problem is not None:
        return [problem]
    problems = []
    if (problem := parent_problem(cell.level, cell.code, cell.parent_code)) is not None:
        problems.append(problem)
    if cell.level is GridLevel.UNIT:
        if (problem := basic_code_problem(cell.code, cell.basic_code)) is not None:
            problems.append(problem)
    elif cell.basic_code is not None:
        problems.append(f"只有单元网格带所属基础网格编码，{cell.level.label}“{cell.code}”不应带")
    return problems
