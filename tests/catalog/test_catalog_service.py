"""The catalog in the database: demo load, versions, search, duty resolution, audit."""

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from gridgov.audit import service as audit
from gridgov.audit.models import AuditEvent
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.catalog import service
from gridgov.catalog.demo import load_demo_catalog
from gridgov.catalog.models import MatterTypeVersion
from gridgov.catalog.schemas import DutyRuleIn, DutyRulePatch, MatterTypeBody
from gridgov.clock import utcnow
from gridgov.errors import Conflict, InvalidInput, NotFound

from .builders import DONGHUAMEN, JIAODAOKOU, QIANMEN, load_demo, mini_catalog, mini_input
from .demo_data import demo_types_by_name


def _code(name: str) -> str:
    return demo_types_by_name()[name]["code"]


def test_demo_catalog_loads_once_with_every_type_and_rule_and_an_intact_audit_chain(database):
    types, rules = load_demo(database)
    assert types >= 320 and rules >= 300
    with database.write() as db:
        assert load_demo_catalog(db, actor=SYSTEM_ACTOR) == (0, 0)
    with database.read() as db:
        figures = service.stats(db)
        assert figures.types == types and figures.active_rules == rules
        assert all(count >= 25 for count in figures.per_domain.values())
        assert audit.verify(db).intact


def test_the_demo_catalog_needs_the_demo_organisation(database):
    with database.write() as db, pytest.raises(Conflict, match="演示组织机构"):
        load_demo_catalog(db, actor=SYSTEM_ACTOR)


def test_get_type_gives_the_version_in_force_with_its_standard(database):
    load_demo(database)
    with database.read() as db:
        version = service.get_type(db, code=_code("暴露垃圾"))
    assert isinstance(version.id, int) and version.code == "E010201"
    assert version.domain == "urban_management" and version.category == "event"
    assert version.default_grade in ("L1", "L2", "L3")
    assert version.time_limit == TimeLimit(4, LimitUnit.WORKING_HOURS) and not version.urgent
    with database.read() as db:
        urgent = service.get_type(db, code=_code("污水井盖缺失"))
    assert urgent.urgent and urgent.time_limit == TimeLimit(2, LimitUnit.NATURAL_HOURS)


def test_unknown_and_naive_lookups_are_refused_in_chinese(database):
    mini_catalog(database)
    with database.read() as db:
        with pytest.raises(NotFound, match="事项编码 C999999 不存在"):
            service.get_type(db, code="C999999")
        with pytest.raises(InvalidInput, match="时区"):
            service.get_type(db, code="C010101", at=utcnow().replace(tzinfo=None))
        with pytest.raises(NotFound, match="尚未生效"):
            service.get_type(db, code="C010101", at=utcnow() - timedelta(days=1))


def _changed(row: dict, **changes) -> dict:
    row = copy.deepcopy(row)
    row.update(changes)
    return row


def test_a_changed_time_limit_makes_a_new_version_and_cases_keep_the_old_one(database):
    mini_catalog(database)
    with database.read() as db:
        first = service.get_type(db, code="C010102")
    before_change = utcnow()
    data = mini_input()
    for source in data.types:
        if source.data["code"] == "C010102":
            source.data["time_limit"] = {"value": 1.5, "unit": "natural_hours"}
    with database.write() as db:
        report = service.import_catalog(db, actor=SYSTEM_ACTOR, data=data)
    assert (report.types_versioned, report.types_unchanged, report.types_created) == (1, 2, 0)
    with database.read() as db:
        now = service.get_type(db, code="C010102")
        then = service.get_type(db, code="C010102", at=before_change)
        kept = service.get_version(db, version_id=first.id)
        history = service.type_history(db, code="C010102")
    assert now.id != first.id and now.version == 2
    assert now.time_limit == TimeLimit(Decimal("1.5"), LimitUnit.NATURAL_HOURS)
    assert then.id == first.id and then.time_limit == first.time_limit
    assert kept.valid_to == now.valid_from
    assert [v.version for v in history] == [2, 1]


def test_unchanged_rows_write_nothing(database):
    mini_catalog(database)
    with database.read() as db:
        events = db.scalar(select(func.count()).select_from(AuditEvent))
        versions = db.scalar(select(func.count()).select_from(MatterTypeVersion))
    with database.write() as db:
        report = service.import_catalog(db, actor=SYSTEM_ACTOR, data=mini_input())
    assert report.types_unchanged == 3 and report.rules_unchanged == 3
    assert report.types_versioned == report.rules_updated == report.classes_written == 0
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(MatterTypeVersion)) == versions
        # only the import's own summary event
        assert db.scalar(select(func.count()).select_from(AuditEvent)) == events + 1


def test_update_via_service_versions_and_retire_ends_the_type(database):
    mini_catalog(database)
    with database.read() as db:
        row = service.type_row(service.get_type(db, code="E010201"))
    body = MatterTypeBody(**{**{k: v for k, v in row.items() if k != "code"},
                             "default_grade": "L3", "change_note": "改为多部门协同"})
    with database.write() as db:
        second = service.update_type(db, actor=SYSTEM_ACTOR, code="E010201", data=body)
    assert second.version == 2 and second.default_grade == "L3"
    assert second.change_note == "改为多部门协同"
    with database.write() as db:  # same content again: nothing new
        again = service.update_type(db, actor=SYSTEM_ACTOR, code="E010201", data=body)
    assert again.id == second.id
    with database.write() as db:
        service.retire_type(db, actor=SYSTEM_ACTOR, code="E010201", reason="并入其他事项")
    with database.read() as db:
        with pytest.raises(NotFound, match="已停用"):
            service.get_type(db, code="E010201")
        assert service.get_version(db, version_id=second.id).valid_to is not None
        assert "E010201" not in [v.code for v in service.search_types(db, text="垃圾")]
        assert service.stats(db).retired == 1
        retired, total = service.list_types(db, status="retired")
        assert [v.code for v in retired] == ["E010201"] and total == 1
    with database.write() as db, pytest.raises(Conflict, match="已停用"):
        service.retire_type(db, actor=SYSTEM_ACTOR, code="E010201")


def test_invalid_single_type_lists_every_problem(database):
    mini_catalog(database)
    with database.read() as db:
        row = service.type_row(service.get_type(db, code="C010101"))
    row.pop("code")
    row.update(urgency="urgent", time_limit={"value": 4, "unit": "working_hours"},
               minor_class="0199")
    with database.write() as db, pytest.raises(InvalidInput) as caught:
        service.update_type(db, actor=SYSTEM_ACTOR, code="C010101", data=MatterTypeBody(**row))
    fields = {error["field"] for error in caught.value.errors}
    assert {"time_limit.unit", "minor_class", "code"} <= fields


def test_search_finds_types_by_keyword_code_and_name(database):
    load_demo(database)
    with database.read() as db:
        by_keyword = service.search_types(db, text="自来水井盖")
        by_code = service.search_types(db, text="e0102")
        by_name = service.search_types(db, text="暴露垃圾")
        by_two_terms = service.search_types(db, text="井盖 缺失", limit=50)
        nothing = service.search_types(db, text="   ")
        wildcard = service.search_types(db, text="%")
    assert "C010101" in [v.code for v in by_keyword]
    assert by_code[0].code.startswith("E0102")
    assert by_name[0].code == "E010201"
    assert by_two_terms and all("缺失" in v.search_text and "井盖" in v.search_text
                                for v in by_two_terms)
    assert nothing == [] and wildcard == []


def test_duty_goes_to_the_field_unit_serving_the_street(database):
    load_demo(database)
    with database.read() as db:
        rule = next(r for r in service.list_rules(db, limit=500)[0] if r.per_street_field_unit
                    and r.street_code is None and r.owner_code is None and r.area is None
                    and r.unit_code == "D002")
        answer = service.resolve_duty(db, type_code=rule.type_code, street_code=JIAODAOKOU)
    assert answer.unit_code == "D002-03" and answer.unit_name == "交道口城管执法队"
    assert answer.rule_id == rule.rule_id and not answer.fallback
    assert rule.rule_id in answer.explanation and "交道口城管执法队" in answer.explanation


def test_an_owner_rule_beats_the_general_rule(database):
    load_demo(database)
    with database.read() as db:
        owned = next(r for r in service.list_rules(db, limit=500)[0] if r.owner_code)
        general = service.resolve_duty(db, type_code=owned.type_code, street_code=DONGHUAMEN)
        answer = service.resolve_duty(db, type_code=owned.type_code, street_code=DONGHUAMEN,
                                      owner_code=owned.owner_code)
    assert answer.unit_code == owned.unit_code and answer.rule_id == owned.rule_id
    assert general.rule_id != owned.rule_id
    assert f"权属单位 {owned.owner_code}" in answer.explanation


def test_an_area_rule_applies_only_inside_its_area(database):
    load_demo(database)
    with database.read() as db:
        inside = service.resolve_duty(db, type_code="E010201", street_code=DONGHUAMEN,
                                      area="王府井步行街")
        outside = service.resolve_duty(db, type_code="E010201", street_code=DONGHUAMEN)
    assert inside.unit_code == "D030" and "王府井步行街" in inside.explanation
    assert outside.rule_id != inside.rule_id


def test_a_type_without_a_rule_falls_to_the_local_street(database):
    mini_catalog(database)
    with database.read() as db:
        answer = service.resolve_duty(db, type_code="E010201", street_code="S2")
    assert answer.unit_code == "S2" and answer.rule_id is None and answer.fallback
    assert "属地街道兜底" in answer.explanation and "S2街道" in answer.explanation


def test_a_department_without_a_field_unit_in_the_street_gets_the_case_itself(database):
    mini_catalog(database)
    with database.read() as db:
        served = service.resolve_duty(db, type_code="C010101", street_code="S1")
        unserved = service.resolve_duty(db, type_code="C010101", street_code="S2")
    assert served.unit_code == "D1-S1"
    assert unserved.unit_code == "D1" and "没有派出机构" in unserved.explanation


def test_duty_for_an_unknown_street_or_type_is_not_found(database):
    mini_catalog(database)
    with database.read() as db:
        with pytest.raises(NotFound, match="街道 D1 不存在"):
            service.resolve_duty(db, type_code="C010101", street_code="D1")
        with pytest.raises(NotFound, match="C999999"):
            service.resolve_duty(db, type_code="C999999", street_code="S1")


def test_rules_are_created_updated_and_deactivated_with_audit(database):
    mini_catalog(database)
    with database.write() as db:
        rule = service.create_rule(db, actor=SYSTEM_ACTOR, data=DutyRuleIn(
            type_code="E010201", street_code="S1", unit_code="D1", note="S1 由城管委统一处置"))
    assert rule.rule_id == "R0004"
    with database.read() as db:
        assert service.resolve_duty(db, type_code="E010201", street_code="S1").unit_code == "D1"
    with database.write() as db:
        service.update_rule(db, actor=SYSTEM_ACTOR, rule_id="R0004",
                            patch=DutyRulePatch(unit_code="W1"))
    with database.write() as db:
        service.deactivate_rule(db, actor=SYSTEM_ACTOR, rule_id="R0004")
    with database.read() as db:
        assert service.resolve_duty(db, type_code="E010201", street_code="S1").fallback
        actions = list(db.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "duty_rule", AuditEvent.object_id == "R0004")
            .order_by(AuditEvent.seq)))
    assert actions == ["catalog.rule.create", "catalog.rule.update", "catalog.rule.deactivate"]


def test_a_rule_is_checked_against_real_units_and_duplicates(database):
    mini_catalog(database)
    with database.write() as db, pytest.raises(InvalidInput) as caught:
        service.create_rule(db, actor=SYSTEM_ACTOR, data=DutyRuleIn(
            type_code="C010102", unit_code="NOPE", owner_code="W1", per_street_field_unit=True))
    messages = " ".join(e["message"] for e in caught.value.errors)
    assert "责任单位 NOPE 不存在" in messages and "R0003" in messages
    with database.write() as db, pytest.raises(InvalidInput, match="没有按街道设置的派出机构"):
        service.create_rule(db, actor=SYSTEM_ACTOR, data=DutyRuleIn(
            type_code="E010201", unit_code="W1", per_street_field_unit=True))
    with database.write() as db, pytest.raises(InvalidInput, match="街道 D1 不存在"):
        service.create_rule(db, actor=SYSTEM_ACTOR, data=DutyRuleIn(
            type_code="E010201", unit_code="W1", street_code="D1"))
    with database.write() as db, pytest.raises(Conflict):
        service.create_rule(db, actor=SYSTEM_ACTOR, data=DutyRuleIn(
            rule_id="R0001", type_code="E010201", unit_code="W1"))


def test_every_catalog_write_is_in_the_audit_chain(database):
    mini_catalog(database)
    with database.read() as db:
        actions = set(db.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("catalog.%"))))
        assert audit.verify(db).intact
    assert {"catalog.class.create", "catalog.type.create", "catalog.rule.create",
            "catalog.import"} <= actions


def test_names_stay_unique_across_the_catalog(database):
    mini_catalog(database)
    data = mini_input()
    data.types = [source for source in data.types if source.data["code"] == "C010102"]
    data.types[0].data["name"] = "上水井盖缺失"  # C010101's name
    data.rules = []
    with database.write() as db, pytest.raises(InvalidInput) as caught:
        service.import_catalog(db, actor=SYSTEM_ACTOR, data=data)
    error = caught.value.errors[0]
    assert error["field"] == "name" and "C010101" in error["message"]


def test_street_rules_apply_only_in_their_street(database):
    load_demo(database)
    with database.read() as db:
        street_rule = next((r for r in service.list_rules(db, limit=500)[0] if r.street_code), None)
        if street_rule is None:
            pytest.skip("the demo matrix has no street rule")
        here = service.resolve_duty(db, type_code=street_rule.type_code,
                                    street_code=street_rule.street_code)
        elsewhere_street = QIANMEN if street_rule.street_code != QIANMEN else DONGHUAMEN
        elsewhere = service.resolve_duty(db, type_code=street_rule.type_code,
                                         street_code=elsewhere_street)
    assert here.rule_id == street_rule.rule_id
    assert elsewhere.rule_id != street_rule.rule_id
