from datetime import date

from gridgov.org.rules import UnitKind, Validity, child_path, code_problem, parent_problem


def test_streets_hang_under_the_district_centre_only() -> None:
    assert parent_problem(UnitKind.STREET, UnitKind.DISTRICT_CENTRE) is None
    assert parent_problem(UnitKind.STREET, UnitKind.DEPARTMENT) is not None
    assert parent_problem(UnitKind.STREET, None) == "街道必须有上级单位"


def test_the_district_centre_is_a_root() -> None:
    assert parent_problem(UnitKind.DISTRICT_CENTRE, None) is None
    assert parent_problem(UnitKind.DISTRICT_CENTRE, UnitKind.STREET) is not None


def test_validity_includes_its_last_day() -> None:
    validity = Validity(date(2020, 1, 1), date(2025, 12, 31))
    assert validity.active_on(date(2025, 12, 31))
    assert not validity.active_on(date(2026, 1, 1))
    assert not validity.active_on(date(2019, 12, 31))
    assert Validity(date(2020, 1, 1), None).active_on(date(2099, 1, 1))


def test_codes_are_plain_and_bounded() -> None:
    assert code_problem("110101001") is None
    assert code_problem(" 1") is not None
    assert code_problem("东城") is not None
    assert code_problem("x" * 33) is not None


def test_unit_kind_reads_chinese_labels() -> None:
    assert UnitKind.from_label("派出机构") is UnitKind.FIELD_UNIT
    assert UnitKind.from_label("community") is UnitKind.COMMUNITY


def test_paths_list_every_ancestor() -> None:
    assert child_path(None, 1) == "/1/"
    assert child_path("/1/5/", 23) == "/1/5/23/"
