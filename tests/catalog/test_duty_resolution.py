"""resolve_responsible_unit and validate_duty_rules on small hand-made matrices."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgov.catalog.rules import (
    FALLBACK_EXPLANATION,
    LOCAL_STREET,
    DutyRule,
    parse_duty_rules,
    resolve_responsible_unit,
    validate_duty_rules,
)

TYPE = "C010201"
STREET, OTHER_STREET = "110101001", "110101002"


def rule(rule_id: str, unit: str, **qualifiers) -> DutyRule:
    return DutyRule(rule_id=rule_id, type_code=qualifiers.pop("type_code", TYPE), unit_code=unit,
                    **qualifiers)


def resolve(rules, street=STREET, **qualifiers):
    return resolve_responsible_unit(rules, type_code=TYPE, street_code=street, **qualifiers)


def test_the_only_matching_rule_answers_and_is_named():
    resolution = resolve([rule("R1", "W005")])
    assert (resolution.unit_code, resolution.rule_id) == ("W005", "R1")
    assert not resolution.is_fallback
    assert "R1" in resolution.explanation and "W005" in resolution.explanation


def test_a_rule_for_another_type_does_not_match():
    resolution = resolve([rule("R1", "W005", type_code="C010202")])
    assert resolution.is_fallback


def test_no_matching_rule_falls_to_the_local_street():
    resolution = resolve([rule("R1", "D002", street_code=OTHER_STREET)])
    assert resolution.unit_code == LOCAL_STREET
    assert resolution.street_code == STREET
    assert resolution.rule_id is None
    assert resolution.explanation == FALLBACK_EXPLANATION == "无匹配职责规则，属地街道兜底"


def test_a_qualified_rule_does_not_match_a_case_without_that_qualifier():
    rules = [rule("R1", "W005", owner_code="W005"), rule("R2", "W002", area="前门大街")]
    assert resolve(rules).is_fallback


def test_more_qualifiers_win_over_fewer():
    rules = [
        rule("R1", "D001"),
        rule("R2", "W005", owner_code="W005"),
        rule("R3", "D030", owner_code="W005", street_code=STREET),
    ]
    resolution = resolve(rules, owner_code="W005")
    assert resolution.rule_id == "R3"
    assert "3 条规则适用" in resolution.explanation
    assert resolve(rules, street=OTHER_STREET, owner_code="W005").rule_id == "R2"
    assert resolve(rules, street=OTHER_STREET).rule_id == "R1"


def test_two_qualifiers_beat_the_highest_ranked_single_one():
    rules = [rule("R1", "W005", owner_code="W005"),
             rule("R2", "D030", area="前门大街", street_code=STREET)]
    assert resolve(rules, owner_code="W005", area="前门大街").rule_id == "R2"


@pytest.mark.parametrize("order", [0, 1])
def test_on_equal_count_owner_beats_area_beats_street(order):
    by_owner = rule("O", "W005", owner_code="W005")
    by_area = rule("A", "D030", area="前门大街")
    by_street = rule("S", "D002", street_code=STREET, per_street_field_unit=True)
    rules = [by_owner, by_area, by_street] if order == 0 else [by_street, by_area, by_owner]
    assert resolve(rules, owner_code="W005", area="前门大街").rule_id == "O"
    assert resolve(rules, area="前门大街").rule_id == "A"
    assert resolve(rules).rule_id == "S"


def test_owner_and_area_beat_owner_and_street():
    rules = [rule("OS", "D001", owner_code="W005", street_code=STREET),
             rule("OA", "D030", owner_code="W005", area="前门大街")]
    assert resolve(rules, owner_code="W005", area="前门大街").rule_id == "OA"


def test_a_full_tie_goes_to_the_earlier_rule():
    rules = [rule("R1", "D001", area="前门大街"), rule("R2", "D030", area="前门大街")]
    assert resolve(rules, area="前门大街").rule_id == "R1"
    assert resolve(list(reversed(rules)), area="前门大街").rule_id == "R2"


def test_field_unit_rule_sends_the_case_to_the_field_unit_in_the_case_street():
    resolution = resolve([rule("R1", "D002", per_street_field_unit=True)], street=OTHER_STREET,
                         unit_names={"D002": "城管执法局"})
    assert (resolution.unit_code, resolution.per_street_field_unit, resolution.street_code) == (
        "D002", True, OTHER_STREET)
    assert resolution.explanation == (
        f"按职责规则 R1（事项 {TYPE}，无附加限定）派至 D002 城管执法局 在街道 {OTHER_STREET} 的派出机构")


def test_explanation_names_the_qualifiers_and_the_note():
    resolution = resolve([rule("R9", "W007", owner_code="W007", note="权属单位自行维护其设施")],
                         owner_code="W007")
    assert "限定权属单位 W007" in resolution.explanation
    assert resolution.explanation.endswith("说明：权属单位自行维护其设施")


def test_rules_parse_from_json_objects():
    rules = parse_duty_rules([{
        "id": "R0001", "type_code": TYPE, "street_code": None, "owner_code": "W005", "area": None,
        "unit_code": "W005", "per_street_field_unit": False, "note": "",
    }])
    assert rules == [DutyRule("R0001", TYPE, "W005", owner_code="W005")]
    with pytest.raises(ValueError, match="unit_code"):
        parse_duty_rules([{"id": "R0002", "type_code": TYPE}])


def test_validate_duty_rules_reports_every_problem():
    rules = [
        rule("R1", "D099", type_code="X000000"),
        rule("R1", "D015", per_street_field_unit=True, owner_code="W099", street_code="110101099",
             area="不存在的区域"),
        rule("R3", "D030"),
        rule("R4", "D001"),
    ]
    problems = validate_duty_rules(
        rules, type_codes={TYPE}, unit_codes={"D001", "D002", "D015", "D030", "W005"},
        field_unit_codes={"D002"}, street_codes={STREET}, area_names={"前门大街"})
    found = {(problem.rule_id, problem.problem.field, problem.problem.code) for problem in problems}
    assert found == {
        ("R1", "type_code", "unknown_value"),
        ("R1", "unit_code", "unknown_value"),
        ("R1", "id", "duplicate"),
        ("R1", "per_street_field_unit", "inconsistent"),
        ("R1", "owner_code", "unknown_value"),
        ("R1", "street_code", "unknown_value"),
        ("R1", "area", "unknown_value"),
        ("R4", "type_code", "duplicate"),
    }


# --- properties ---------------------------------------------------------------------------

def maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


rules_strategy = st.lists(
    st.builds(
        DutyRule,
        rule_id=st.text(alphabet="R0123456789", min_size=2, max_size=4),
        type_code=st.sampled_from([TYPE, "C010202"]),
        unit_code=st.sampled_from(["D001", "D002", "W005"]),
        street_code=maybe([STREET, OTHER_STREET]),
        owner_code=maybe(["W005", "W001"]),
        area=maybe(["前门大街", "南锣鼓巷"]),
    ),
    max_size=8,
)


@given(rules=rules_strategy, street=st.sampled_from([STREET, OTHER_STREET]),
       owner=maybe(["W005", "W001"]), area=maybe(["前门大街", "南锣鼓巷"]))
def test_the_earliest_of_the_most_specific_applicable_rules_wins(rules, street, owner, area):
    resolution = resolve_responsible_unit(rules, type_code=TYPE, street_code=street,
                                          owner_code=owner, area=area)
    applicable = [r for r in rules
                  if r.applies_to(type_code=TYPE, street_code=street, owner_code=owner, area=area)]
    if not applicable:
        assert resolution.is_fallback and resolution.explanation == FALLBACK_EXPLANATION
        return
    best = max(r.specificity for r in applicable)
    expected = next(r for r in applicable if r.specificity == best)  # earliest of the most specific
    assert (resolution.rule_id, resolution.unit_code) == (expected.rule_id, expected.unit_code)
    assert resolution.per_street_field_unit == expected.per_street_field_unit
