"""validate_matter_type / validate_catalog list every problem of a row, for the import report."""

import pytest

from gridgov.catalog.rules import validate_catalog, validate_matter_type


def good_row(**changes) -> dict:
    row = {
        "code": "C010201", "name": "污水井盖缺失", "domain": "urban_management",
        "category": "component", "major_class": "01", "minor_class": "0102",
        "keywords": ["污水井盖", "井盖丢失"],
        "filing_condition": "污水井盖缺失，井口裸露，影响行人或车辆通行安全",
        "closing_condition": "井盖已补齐，恢复原状",
        "time_limit": {"value": 2, "unit": "natural_hours"}, "urgency": "urgent",
        "default_grade": "L2",
    }
    row.update(changes)
    return {key: value for key, value in row.items() if value is not ...}


def problems_of(row) -> set[tuple[str, str]]:
    return {(problem.field, problem.code) for problem in validate_matter_type(row)}


def test_a_good_row_has_no_problem():
    assert validate_matter_type(good_row()) == []


def test_a_bad_row_reports_every_problem():
    row = {
        "code": "X12", "name": "  ", "domain": "城管", "category": "thing",
        "major_class": "1", "minor_class": "0102", "keywords": "井盖",
        "filing_condition": None, "time_limit": {"value": 0, "unit": "hours"},
        "urgency": "very", "default_grade": "L4",
    }
    assert problems_of(row) == {
        ("code", "bad_format"), ("name", "missing"), ("domain", "unknown_value"),
        ("category", "unknown_value"), ("major_class", "bad_format"),
        ("keywords", "bad_format"), ("filing_condition", "missing"),
        ("closing_condition", "missing"), ("time_limit.value", "not_positive"),
        ("time_limit.unit", "unknown_value"), ("urgency", "unknown_value"),
        ("default_grade", "unknown_value"),
    }
    messages = [problem.message for problem in validate_matter_type(row)]
    assert "缺少结案条件" in messages and "处置时限应大于 0，现为 0" in messages


def test_an_empty_row_reports_every_required_field():
    assert problems_of({}) == {
        (field, "missing") for field in (
            "code", "name", "domain", "category", "major_class", "minor_class",
            "filing_condition", "closing_condition", "urgency", "default_grade", "keywords",
            "time_limit")
    }


def test_urgent_type_must_count_natural_time():
    row = good_row(time_limit={"value": 2, "unit": "working_hours"})
    assert problems_of(row) == {("time_limit.unit", "inconsistent")}
    assert problems_of(good_row(time_limit={"value": 30, "unit": "natural_minutes"})) == set()


def test_normal_type_may_count_working_or_natural_time():
    for unit in ("working_hours", "working_days", "natural_hours"):
        row = good_row(urgency="normal", time_limit={"value": 1, "unit": unit})
        assert problems_of(row) == set()


@pytest.mark.parametrize(("limit", "expected"), [
    (None, {("time_limit", "missing")}),
    ("4 工作小时", {("time_limit", "bad_format")}),
    ({"unit": "natural_hours"}, {("time_limit.value", "missing")}),
    ({"value": "4", "unit": "natural_hours"}, {("time_limit.value", "bad_format")}),
    ({"value": True, "unit": "natural_hours"}, {("time_limit.value", "bad_format")}),
    ({"value": -1, "unit": "natural_hours"}, {("time_limit.value", "not_positive")}),
    ({"value": 2}, {("time_limit.unit", "missing")}),
    ({"value": 0.5, "unit": "natural_hours"}, set()),
])
def test_time_limit_problems(limit, expected):
    assert problems_of(good_row(time_limit=limit)) == expected


def test_code_must_agree_with_domain_category_and_classes():
    assert problems_of(good_row(code="E010201")) == {("code", "inconsistent")}
    assert problems_of(good_row(code="C010301")) == {("code", "inconsistent")}  # minor 0103
    assert problems_of(good_row(minor_class="0201")) == {
        ("minor_class", "inconsistent"), ("code", "inconsistent")}


def test_category_must_fit_the_domain():
    row = good_row(domain="public_safety", category="component")
    assert problems_of(row) == {("category", "inconsistent"), ("code", "inconsistent")}
    other = good_row(code="A010101", domain="public_safety", category="other", minor_class="0101")
    assert problems_of(other) == set()


def test_keywords_must_be_a_non_empty_list_of_text():
    assert problems_of(good_row(keywords=[])) == {("keywords", "missing")}
    assert problems_of(good_row(keywords=["井盖", " "])) == {("keywords", "bad_format")}
    assert problems_of(good_row(keywords=["井盖", 3])) == {("keywords", "bad_format")}


def test_text_fields_must_be_text():
    assert problems_of(good_row(name=12)) == {("name", "bad_format")}


def test_validate_catalog_reports_rows_and_duplicates():
    rows = [good_row(), good_row(default_grade="L9"), good_row(code="C010202")]
    found = [(found.row_index, found.type_code, found.problem.field, found.problem.code)
             for found in validate_catalog(rows)]
    assert found == [
        (1, "C010201", "default_grade", "unknown_value"),
        (1, "C010201", "code", "duplicate"),
        (1, "C010201", "name", "duplicate"),
        (2, "C010202", "name", "duplicate"),
    ]
    assert validate_catalog(rows)[1].problem.message == "事项编码“C010201”与第 1 条重复"


def test_the_same_name_may_be_used_in_another_domain():
    other_domain = good_row(code="A010101", domain="public_safety", category="other",
                            minor_class="0101")
    assert validate_catalog([good_row(), other_domain]) == []
