"""The packaged demo duty matrix against the demo catalog and the demo organisation."""

import pytest

from gridgov.catalog.rules import (
    FALLBACK_EXPLANATION,
    LOCAL_STREET,
    parse_duty_rules,
    resolve_responsible_unit,
    validate_duty_rules,
)
from gridgov.demo.dongcheng import DEPARTMENTS, STREETS, UTILITIES

from .demo_data import demo_catalog, demo_duty_matrix, demo_types_by_name

UNIT_CODES = {body.code for body in (*DEPARTMENTS, *UTILITIES)}
FIELD_UNIT_CODES = {body.code for body in DEPARTMENTS if body.field_units_per_street}
STREET_CODES = {street.code for street in STREETS}
SHORT_NAMES = {body.code: body.short_name for body in (*DEPARTMENTS, *UTILITIES)}
DONGHUAMEN, QIANMEN, TIANTAN, YONGDINGMENWAI = "110101001", "110101011", "110101016", "110101017"


def demo_rules():
    return parse_duty_rules(demo_duty_matrix()["rules"])


def code_of(name: str) -> str:
    return demo_types_by_name()[name]["code"]


def resolve(name: str, street: str = DONGHUAMEN, **qualifiers):
    return resolve_responsible_unit(demo_rules(), type_code=code_of(name), street_code=street,
                                    unit_names=SHORT_NAMES, **qualifiers)


def test_every_rule_references_an_existing_type_unit_street_and_area():
    areas = {area["name"] for area in demo_duty_matrix()["areas"]}
    problems = validate_duty_rules(
        demo_rules(), type_codes={row["code"] for row in demo_catalog()["types"]},
        unit_codes=UNIT_CODES, field_unit_codes=FIELD_UNIT_CODES, street_codes=STREET_CODES,
        area_names=areas)
    assert problems == []


def test_areas_lie_in_demo_streets():
    assert {area["street_code"] for area in demo_duty_matrix()["areas"]} <= STREET_CODES


def test_every_urban_management_type_has_an_unqualified_rule():
    unqualified = {rule.type_code for rule in demo_rules()
                   if not (rule.street_code or rule.owner_code or rule.area)}
    missing = [row["code"] for row in demo_catalog()["types"]
               if row["domain"] == "urban_management" and row["code"] not in unqualified]
    assert missing == []


def test_most_other_types_have_a_rule_and_a_few_fall_to_the_street():
    ruled = {rule.type_code for rule in demo_rules()}
    others = [row["code"] for row in demo_catalog()["types"] if row["domain"] != "urban_management"]
    without = [code for code in others if code not in ruled]
    assert 3 <= len(without) < len(others) // 5


def test_matrix_uses_owner_area_street_and_field_unit_rules():
    rules = demo_rules()
    assert any(rule.owner_code for rule in rules)
    assert any(rule.area for rule in rules)
    assert any(rule.street_code for rule in rules)
    assert any(rule.per_street_field_unit for rule in rules)


def test_water_supply_cover_goes_to_the_water_company():
    resolution = resolve("上水井盖缺失")
    assert resolution.unit_code == "W002"
    assert resolution.rule_id is not None and "W002 自来水集团" in resolution.explanation


def test_telecom_cover_goes_to_its_owner_and_otherwise_to_the_urban_management_commission():
    assert resolve("通讯井盖缺失", owner_code="W008").unit_code == "W008"
    assert resolve("通讯井盖缺失").unit_code == "D001"
    assert resolve("通讯井盖缺失", owner_code="W002").unit_code == "D001"  # no rule for that owner


def test_illegal_building_goes_to_the_enforcement_team_of_the_case_street():
    resolution = resolve("私搭乱建（正在施工）", street=QIANMEN)
    assert (resolution.unit_code, resolution.per_street_field_unit, resolution.street_code) == (
        "D002", True, QIANMEN)
    assert f"在街道 {QIANMEN} 的派出机构" in resolution.explanation


def test_pedestrian_street_cleaning_goes_to_the_municipal_centre():
    assert resolve("道路保洁不到位", area="王府井步行街").unit_code == "D030"
    assert resolve("道路保洁不到位").unit_code == "D015"


def test_street_override_applies_only_in_its_street():
    assert resolve("车行道破损", street=YONGDINGMENWAI).unit_code == "D031"
    assert resolve("车行道破损", street=TIANTAN).unit_code == "D030"


def test_area_rule_beats_street_rule_for_exposed_garbage():
    # 暴露垃圾 has a street rule for 前门 and an area rule for 王府井步行街: both name D030 in
    # the demo, so check which rule id wins.
    rules = {(rule.street_code, rule.area): rule.rule_id for rule in demo_rules()
             if rule.type_code == code_of("暴露垃圾")}
    resolution = resolve("暴露垃圾", street=QIANMEN, area="王府井步行街")
    assert resolution.rule_id == rules[(None, "王府井步行街")]


@pytest.mark.parametrize("name", ["邻里纠纷", "楼道堆物", "独居老人关照需求"])
def test_types_without_rule_fall_to_the_local_street(name):
    resolution = resolve(name, street=TIANTAN)
    assert resolution.unit_code == LOCAL_STREET and resolution.is_fallback
    assert resolution.street_code == TIANTAN
    assert resolution.rule_id is None and resolution.explanation == FALLBACK_EXPLANATION
