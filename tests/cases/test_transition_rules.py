import pytest

from gridgov.auth.policy import Action
from gridgov.cases.rules import (
    CLOCK_EFFECTS, OPEN_STATES, TRANSITIONS, CaseStatus, IllegalTransition, Node, check_transition,
    next_status, node_limit,
)
from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.errors import InvalidInput

S = CaseStatus


def test_every_transition_has_its_clock_effect():
    assert set(CLOCK_EFFECTS) == set(TRANSITIONS)


def test_no_transition_leaves_a_final_state_except_the_district_reopening_a_closed_case():
    for transition in TRANSITIONS.values():
        if transition.name == "reopen":
            assert transition.sources == {S.CLOSED} and transition.action is Action.CASE_DISPATCH
            continue
        assert transition.sources <= OPEN_STATES, transition.name


def test_filing_needs_a_type():
    with pytest.raises(InvalidInput) as refused:
        check_transition("file", status=S.REPORTED, payload={})
    assert refused.value.errors == [{"field": "type_code", "message": "必填"}]
    assert check_transition("file", status=S.REPORTED, payload={"type_code": "E0102"}).name == "file"


def test_a_closed_case_cannot_be_dispatched():
    with pytest.raises(IllegalTransition) as refused:
        check_transition("dispatch", status=S.CLOSED, payload={"unit_code": "D001"})
    assert refused.value.status == 409 and "已结案" in refused.value.detail


def test_department_may_return_a_case_it_holds_with_a_reason():
    transition = check_transition("return_to_district", status=S.RECEIVED, payload={"reason": "非本部门职责"})
    assert transition.by_holder and transition.action is Action.CASE_HANDLE
    assert next_status(transition, status=S.RECEIVED, suspended_from=None) is S.RETURNED


def test_resume_returns_to_the_state_it_was_suspended_in():
    transition = check_transition("resume", status=S.SUSPENDED, payload={})
    assert next_status(transition, status=S.SUSPENDED, suspended_from=S.DISPATCHED) is S.DISPATCHED


def test_extension_and_supervision_keep_the_state():
    for name, payload in (("request_extension", {"extra_value": 2, "extra_unit": "working_days", "reason": "x"}),
                          ("supervise", {"reason": "群众反映强烈"})):
        transition = check_transition(name, status=S.RECEIVED, payload=payload)
        assert next_status(transition, status=S.RECEIVED, suspended_from=None) is S.RECEIVED


def test_force_close_from_every_open_state_needs_a_reason():
    for status in OPEN_STATES:
        with pytest.raises(InvalidInput):
            check_transition("force_close", status=status, payload={})
        assert check_transition("force_close", status=status, payload={"reason": "重复"}).target is S.CLOSED


def test_unknown_transition_is_invalid_input():
    with pytest.raises(InvalidInput):
        check_transition("teleport", status=S.REPORTED, payload={})


def test_node_limits_follow_the_city_rules():
    handling = TimeLimit(4, LimitUnit.WORKING_HOURS)
    assert node_limit(Node.INTAKE, urgent=True, handling_limit=handling) == TimeLimit(10, LimitUnit.NATURAL_MINUTES)
    assert node_limit(Node.INTAKE, urgent=False, handling_limit=handling) == TimeLimit(30, LimitUnit.NATURAL_MINUTES)
    assert node_limit(Node.RECEIPT, urgent=False, handling_limit=handling) == TimeLimit(1, LimitUnit.WORKING_HOURS)
    assert node_limit(Node.HANDLING, urgent=False, handling_limit=handling) is handling
