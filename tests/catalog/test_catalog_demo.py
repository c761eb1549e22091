"""The packaged demo catalog: size, coverage, clean rows, real-world anchors, reproducibility."""

from collections import Counter

import pytest

from gridgov.calendar.rules import LimitUnit
from gridgov.catalog import demo_source
from gridgov.catalog.rules import DOMAIN_NAMES, LIMIT_UNITS, validate_catalog, validate_matter_type

from .demo_data import demo_catalog, demo_types_by_name


def test_demo_catalog_has_at_least_320_types_with_unique_codes_and_names():
    types = demo_catalog()["types"]
    assert len(types) >= 320
    assert len({row["code"] for row in types}) == len(types)
    assert len({row["name"] for row in types}) == len(types)


def test_every_domain_has_at_least_25_types_and_urban_management_the_most():
    per_domain = Counter(row["domain"] for row in demo_catalog()["types"])
    assert set(per_domain) == set(DOMAIN_NAMES)
    assert all(count >= 25 for count in per_domain.values())
    assert per_domain.most_common(1)[0][0] == "urban_management"


def test_domains_are_listed_with_their_chinese_names():
    domains = {row["code"]: row["name"] for row in demo_catalog()["domains"]}
    assert domains == {"urban_management": "城市管理", "social_services": "社会服务管理",
                       "public_order": "社会治安与防控", "public_safety": "公共安全"}


def test_every_demo_row_validates_clean():
    rows = demo_catalog()["types"]
    assert [problem for row in rows for problem in validate_matter_type(row)] == []
    assert validate_catalog(rows) == []


def test_every_type_refers_to_a_listed_minor_class_of_its_domain_and_category():
    minors = {
        (cls["domain"], cls["category"], minor["code"])
        for cls in demo_catalog()["classes"] for minor in cls["minor_classes"]
    }
    unknown = [row["code"] for row in demo_catalog()["types"]
               if (row["domain"], row["category"], row["minor_class"]) not in minors]
    assert unknown == []


def test_urban_management_major_classes_follow_the_national_split():
    majors = {(cls["category"], cls["code"]): cls["name"] for cls in demo_catalog()["classes"]
              if cls["domain"] == "urban_management"}
    assert majors == {
        ("component", "01"): "公用设施", ("component", "02"): "道路交通",
        ("component", "03"): "市容环境", ("component", "04"): "园林绿化",
        ("component", "05"): "房屋土地", ("component", "06"): "其他设施",
        ("event", "01"): "市容环境", ("event", "02"): "宣传广告", ("event", "03"): "施工管理",
        ("event", "04"): "突发事件", ("event", "05"): "街面秩序", ("event", "06"): "其他",
    }


def test_component_minor_classes_start_with_the_standard_manhole_covers():
    public_utilities = next(cls for cls in demo_catalog()["classes"]
                            if cls["category"] == "component" and cls["code"] == "01")
    first = [(minor["code"], minor["name"]) for minor in public_utilities["minor_classes"][:5]]
    assert first == [("0101", "上水井盖"), ("0102", "污水井盖"), ("0103", "雨水井盖"),
                     ("0104", "雨水箅子"), ("0105", "电力井盖")]


def test_every_class_says_where_it_comes_from():
    classes = demo_catalog()["classes"]
    sources = {minor["source"] for cls in classes for minor in cls["minor_classes"]}
    assert sources == {demo_source.STANDARD, demo_source.LOCAL_PRACTICE, demo_source.DEMO}
    other_domains = [cls for cls in classes if cls["domain"] != "urban_management"]
    assert {cls["source"] for cls in other_domains} == {demo_source.DEMO}


@pytest.mark.parametrize(("name", "value", "unit"), [
    ("暴露垃圾", 4, "working_hours"),
    ("道路保洁不到位", 2, "working_hours"),
    ("私搭乱建（正在施工）", 4, "working_hours"),
    ("污水井盖缺失", 2, "natural_hours"),
    ("连续三盏以上路灯不亮", 1, "working_days"),
])
def test_published_time_limits_are_kept(name, value, unit):
    assert demo_types_by_name()[name]["time_limit"] == {"value": value, "unit": unit}


def test_exposed_garbage_closes_only_when_fully_cleared():
    assert demo_types_by_name()["暴露垃圾"]["closing_condition"] == "暴露垃圾已全部清除"


def test_urgent_types_count_natural_time_and_normal_types_working_time():
    for row in demo_catalog()["types"]:
        natural = row["time_limit"]["unit"].startswith("natural")
        assert natural == (row["urgency"] == "urgent"), row["code"]
    assert demo_types_by_name()["道路积水"]["urgency"] == "urgent"


def test_grades_mark_on_the_spot_and_cross_functional_types():
    by_name = demo_types_by_name()
    assert by_name["小广告少量张贴（随手清除）"]["default_grade"] == "L1"
    assert by_name["少量废弃物（随手清理）"]["default_grade"] == "L1"
    for name in ("地下空间违规住人", "违法建设（已建成）", "无主井盖缺失", "群租房"):
        assert by_name[name]["default_grade"] == "L3", name
    grades = Counter(row["default_grade"] for row in demo_catalog()["types"])
    assert grades["L2"] > grades["L3"] > 0 and grades["L1"] > 0


def test_code_scheme_prefixes_match_domain_and_category():
    prefixes = {(row["code"][0], row["domain"], row["category"]) for row in demo_catalog()["types"]}
    assert prefixes == {
        ("C", "urban_management", "component"), ("E", "urban_management", "event"),
        ("S", "social_services", "other"), ("Z", "public_order", "other"),
        ("A", "public_safety", "other"),
    }


def test_every_row_has_search_keywords():
    assert all(row["keywords"] for row in demo_catalog()["types"])
    assert "井盖丢失" in demo_types_by_name()["上水井盖缺失"]["keywords"]


def test_catalog_limit_units_are_calendar_limit_units():
    assert set(LIMIT_UNITS) <= {unit.value for unit in LimitUnit}


def test_packaged_json_is_exactly_what_the_demo_source_builds():
    built = {
        demo_source.CATALOG_PATH: demo_source.build_catalog(),
        demo_source.DUTY_MATRIX_PATH: demo_source.build_duty_matrix(),
    }
    for path, document in built.items():
        assert path.read_text("utf-8") == demo_source.render(document), (
            f"{path.name} is stale: run python -m gridgov.catalog.demo_source")
