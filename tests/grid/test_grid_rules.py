import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely import box

from gridgov.errors import DomainError
from gridgov.grid.rules import (
    GridCell,
    GridLevel,
    OutsideManagedArea,
    basic_code_problem,
    cell_problems,
    code_problem,
    is_valid_code,
    parent_code_prefix,
    parent_problem,
)

GOOD = {
    GridLevel.STREET: "110101001",
    GridLevel.COMMUNITY: "110101001002",
    GridLevel.BASIC: "11010100100203",
    GridLevel.UNIT: "110101001002017",
}


def test_levels_have_chinese_labels_and_code_lengths():
    assert [level.label for level in GridLevel] == ["街道", "社区", "基础网格", "单元网格"]
    assert [level.code_length for level in GridLevel] == [9, 12, 14, 15]


@pytest.mark.parametrize("level", list(GridLevel))
def test_accepts_well_formed_codes(level):
    assert code_problem(level, GOOD[level]) is None
    assert is_valid_code(level, GOOD[level])


@pytest.mark.parametrize(
    ("level", "code", "reason"),
    [
        (GridLevel.UNIT, None, "缺少单元网格编码"),
        (GridLevel.UNIT, 110101001002017, "数字字符串"),
        (GridLevel.UNIT, "11010100100201", "应为 15 位"),
        (GridLevel.STREET, "1101010010", "应为 9 位"),
        (GridLevel.COMMUNITY, "11010100100A", "只能包含数字"),
        (GridLevel.COMMUNITY, "１１０１０１００１００２", "只能包含数字"),  # full-width digits
        (GridLevel.UNIT, "110101001002000", "本级序号不能全为 0"),
        (GridLevel.BASIC, "11010100100200", "本级序号不能全为 0"),
        (GridLevel.STREET, "110100001", "不是区县代码"),
        (GridLevel.COMMUNITY, "110101000002", "街道序号不能为 000"),
        (GridLevel.UNIT, "110101001000017", "社区序号不能为 000"),
    ],
)
def test_rejects_malformed_codes_with_a_chinese_reason(level, code, reason):
    problem = code_problem(level, code)
    assert problem is not None and reason in problem


def test_parent_prefix_of_each_level():
    assert parent_code_prefix(GridLevel.STREET, GOOD[GridLevel.STREET]) == "110101"
    assert parent_code_prefix(GridLevel.COMMUNITY, GOOD[GridLevel.COMMUNITY]) == "110101001"
    assert parent_code_prefix(GridLevel.BASIC, GOOD[GridLevel.BASIC]) == "110101001002"
    # A unit grid's code continues its community's code, not its basic grid's.
    assert parent_code_prefix(GridLevel.UNIT, GOOD[GridLevel.UNIT]) == "110101001002"


@given(st.sampled_from(list(GridLevel)), st.integers(1, 999), st.integers(1, 999),
       st.integers(1, 99), st.integers(1, 999))
def test_a_code_is_consistent_with_its_own_prefix_only(level, street, community, basic, unit):
    community_code = f"110101{street:03d}{community:03d}"
    code = {
        GridLevel.STREET: f"110101{street:03d}",
        GridLevel.COMMUNITY: community_code,
        GridLevel.BASIC: f"{community_code}{basic:02d}",
        GridLevel.UNIT: f"{community_code}{unit:03d}",
    }[level]
    assert code_problem(level, code) is None
    parent = parent_code_prefix(level, code)
    assert parent_problem(level, code, parent) is None
    other = parent[:-1] + str((int(parent[-1]) + 1) % 10)
    assert "上级编码应为" in parent_problem(level, code, other)


def test_unit_grid_must_lie_in_a_basic_grid_of_its_own_community():
    assert basic_code_problem("110101001002017", "11010100100203") is None
    assert "不在同一社区" in basic_code_problem("110101001002017", "11010100100303")
    assert "基础网格编码无效" in basic_code_problem("110101001002017", "110101001002")
    assert "缺少基础网格编码" in basic_code_problem("110101001002017", None)


def test_cell_problems_lists_every_inconsistency():
    square = box(116.40, 39.90, 116.41, 39.91)
    good = GridCell(GridLevel.UNIT, GOOD[GridLevel.UNIT], "单元网格017", "110101001002",
                    "11010100100203", square)
    assert cell_problems(good) == []
    bad = GridCell(GridLevel.UNIT, GOOD[GridLevel.UNIT], "x", "110101001003",
                   "11010100100403", square)
    assert len(cell_problems(bad)) == 2
    street_with_basic = GridCell(GridLevel.STREET, "110101001", "东华门街道", "110101",
                                 "11010100100203", square)
    assert "不应带" in cell_problems(street_with_basic)[0]


def test_cell_knows_its_community_and_street():
    square = box(0, 0, 1, 1)
    unit = GridCell(GridLevel.UNIT, "110101001002017", "u", "110101001002", "11010100100203",
                    square)
    assert (unit.community_code, unit.street_code) == ("110101001002", "110101001")
    street = GridCell(GridLevel.STREET, "110101001", "s", "110101", None, square)
    assert (street.community_code, street.street_code) == (None, "110101001")


def test_outside_managed_area_is_a_domain_error_with_the_position():
    error = OutsideManagedArea(116.2, 39.5)
    assert isinstance(error, DomainError)
    assert "位置不在管辖范围内" in str(error)
    assert "116.2000000" in error.detail and "39.5000000" in error.detail
    assert (error.lng, error.lat) == (116.2, 39.5)
