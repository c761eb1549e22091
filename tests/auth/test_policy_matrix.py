"""The full access matrix: every role × every kind of unit × every action, each cell asserted.

The expected cells are written out by hand below, not derived from the policy's own tables.
"""

import pytest

from gridgov.auth.policy import Action, Principal, Role, Target, UnitRef, decide
from gridgov.org.rules import UnitKind as K

A = Action
# A small district: ids are arbitrary; paths encode the tree.
UNITS: dict[str, UnitRef] = {
    "DC": UnitRef(1, K.DISTRICT_CENTRE, "/1/"),
    "PUB": UnitRef(2, K.PUBLIC, "/1/2/"),
    "S1": UnitRef(10, K.STREET, "/1/10/", street_id=10),
    "S1-FZX": UnitRef(11, K.SUBCENTRE, "/1/10/11/", street_id=10),
    "S1-K01": UnitRef(12, K.SECTION, "/1/10/12/", street_id=10),
    "S1-C1": UnitRef(13, K.COMMUNITY, "/1/10/13/", street_id=10, community_id=13),
    "S1-WY": UnitRef(14, K.OUTSIDE_BODY, "/1/10/14/", street_id=10),
    "S2": UnitRef(20, K.STREET, "/1/20/", street_id=20),
    "S2-FZX": UnitRef(21, K.SUBCENTRE, "/1/20/21/", street_id=20),
    "S2-C1": UnitRef(23, K.COMMUNITY, "/1/20/23/", street_id=20, community_id=23),
    "D1": UnitRef(30, K.DEPARTMENT, "/1/30/"),
    "D1-F1": UnitRef(31, K.FIELD_UNIT, "/1/30/31/"),
    "D2": UnitRef(40, K.DEPARTMENT, "/1/40/"),
    "W1": UnitRef(50, K.OUTSIDE_BODY, "/1/50/"),
}
REPORTER_ID = 1001
# A case in community S1-C1 of street S1, sent to field unit D1-F1, reported by user 1001.
CASE = Target(street_id=10, community_id=13, assigned_unit_paths=("/1/30/31/",),
              reporter_user_ids=frozenset({REPORTER_ID}))

UNSCOPED = {
    Role.PUBLIC: {A.CASE_REPORT},
    Role.SUPERVISOR: {A.UNIT_READ, A.CASE_REPORT},
    Role.INTAKE: {A.UNIT_READ, A.CASE_REPORT},
    Role.DISPATCHER: {A.UNIT_READ, A.DASHBOARD_READ, A.ASSESSMENT_READ},
    Role.STREET: {A.UNIT_READ, A.DASHBOARD_READ, A.ASSESSMENT_READ, A.CASE_REPORT},
    Role.GRASSROOTS: {A.UNIT_READ, A.CASE_REPORT},
    Role.DEPARTMENT: {A.UNIT_READ, A.ASSESSMENT_READ},
    Role.LEADER: {A.UNIT_READ, A.DASHBOARD_READ, A.ASSESSMENT_READ, A.AUDIT_READ},
    Role.ADMIN: {A.UNIT_READ, A.UNIT_MANAGE, A.USER_MANAGE, A.TOKEN_MANAGE, A.CONFIG_MANAGE,
                 A.AUDIT_READ, A.AUDIT_VERIFY, A.ASSESSMENT_READ, A.ASSESSMENT_PUBLISH},
    Role.CALLER: set(),
}
SUPERVISE = {A.CASE_READ, A.CASE_SELF_HANDLE, A.CASE_VERIFY}
TAKE_IN = {A.CASE_READ, A.PERSONAL_DATA_READ, A.CASE_FILE, A.CASE_MERGE}
DISPATCH = {A.CASE_READ, A.PERSONAL_DATA_READ, A.CASE_FILE, A.CASE_MERGE, A.CASE_DISPATCH,
            A.CASE_VERIFY, A.CASE_CLOSE, A.CASE_FORCE_CLOSE, A.CASE_DECIDE_EXTENSION,
            A.CASE_SUPERVISE, A.CASE_REPLY, A.WHISTLE_SUMMON}
COORDINATE = {A.CASE_READ, A.PERSONAL_DATA_READ, A.CASE_FILE, A.CASE_DISPATCH, A.CASE_REPLY,
              A.WHISTLE_START, A.WHISTLE_RATE}
SELF_HANDLE = {A.CASE_READ, A.CASE_SELF_HANDLE}
HANDLE = {A.CASE_READ, A.CASE_HANDLE, A.WHISTLE_REPORT_IN}
OWN_REPORT = {A.CASE_READ, A.PERSONAL_DATA_READ, A.CASE_RATE}

# (role, unit) -> row-level actions allowed on CASE. Units where the role may be held but
# that do not reach CASE map to set(); units where the role may not be held are absent.
ON_CASE: dict[tuple[Role, str], set[Action]] = {
    (Role.PUBLIC, "PUB"): OWN_REPORT,
    (Role.SUPERVISOR, "DC"): SUPERVISE, (Role.SUPERVISOR, "S1-FZX"): SUPERVISE,
    (Role.SUPERVISOR, "S2-FZX"): set(),
    (Role.INTAKE, "DC"): TAKE_IN, (Role.INTAKE, "S1-FZX"): TAKE_IN, (Role.INTAKE, "S2-FZX"): set(),
    (Role.DISPATCHER, "DC"): DISPATCH,
    (Role.STREET, "S1"): COORDINATE, (Role.STREET, "S1-FZX"): COORDINATE,
    (Role.STREET, "S2"): set(), (Role.STREET, "S2-FZX"): set(),
    (Role.GRASSROOTS, "S1"): SELF_HANDLE, (Role.GRASSROOTS, "S1-K01"): SELF_HANDLE,
    (Role.GRASSROOTS, "S1-C1"): SELF_HANDLE, (Role.GRASSROOTS, "S1-WY"): SELF_HANDLE,
    (Role.GRASSROOTS, "S2"): set(), (Role.GRASSROOTS, "S2-C1"): set(), (Role.GRASSROOTS, "W1"): set(),
    (Role.DEPARTMENT, "D1"): HANDLE, (Role.DEPARTMENT, "D1-F1"): HANDLE,
    (Role.DEPARTMENT, "D2"): set(), (Role.DEPARTMENT, "W1"): set(),
    (Role.DEPARTMENT, "S1-K01"): set(), (Role.DEPARTMENT, "S1-WY"): set(),
    (Role.LEADER, "DC"): {A.CASE_READ}, (Role.LEADER, "S1"): {A.CASE_READ}, (Role.LEADER, "S2"): set(),
    (Role.ADMIN, "DC"): {A.CASE_READ},
    (Role.CALLER, "DC"): {A.CASE_READ, A.PERSONAL_DATA_READ, A.CASE_CALLBACK},
    (Role.CALLER, "W1"): {A.CASE_READ, A.PERSONAL_DATA_READ, A.CASE_CALLBACK},
    (Role.CALLER, "S1-WY"): {A.CASE_READ, A.PERSONAL_DATA_READ, A.CASE_CALLBACK},
}

CELLS = [(role, unit, action) for role in Role for unit in UNITS for action in Action]


def _principal(role: Role, unit: str) -> Principal:
    user_id = REPORTER_ID if role is Role.PUBLIC else 7
    return Principal(user_id=user_id, username="u", roles=frozenset({role}), unit=UNITS[unit])


def _expected(role: Role, unit: str, action: Action) -> bool:
    if (role, unit) not in ON_CASE:
        return False  # the role cannot be held in that kind of unit: nothing at all
    return action in UNSCOPED[role] or action in ON_CASE[(role, unit)]


@pytest.mark.parametrize(("role", "unit", "action"), CELLS, ids=[f"{r}@{u}:{a}" for r, u, a in CELLS])
def test_access_matrix_cell(role: Role, unit: str, action: Action) -> None:
    assert decide(_principal(role, unit), action, CASE).allowed is _expected(role, unit, action)


def test_the_matrix_covers_every_role_unit_and_action() -> None:
    assert len(CELLS) == len(Role) * len(UNITS) * len(Action)
    assert {role for role, _ in ON_CASE} == set(Role)


def test_public_sees_only_its_own_reports() -> None:
    stranger = Principal(user_id=2002, username="other", roles=frozenset({Role.PUBLIC}), unit=UNITS["PUB"])
    assert not decide(stranger, Action.CASE_READ, CASE).allowed
    assert not decide(stranger, Action.PERSONAL_DATA_READ, CASE).allowed


def test_street_handles_cases_sent_to_its_own_sections() -> None:
    sent_to_section = Target(street_id=10, community_id=13, assigned_unit_paths=("/1/10/12/",))
    for unit in ("S1", "S1-FZX"):
        assert decide(_principal(Role.STREET, unit), Action.CASE_HANDLE, sent_to_section).allowed
    assert not decide(_principal(Role.STREET, "S2"), Action.CASE_HANDLE, sent_to_section).allowed


def test_decision_names_the_granting_role_when_a_user_holds_several() -> None:
    both = Principal(user_id=7, username="u", roles=frozenset({Role.LEADER, Role.STREET}), unit=UNITS["S1"])
    decision = decide(both, Action.WHISTLE_START, CASE)
    assert decision.allowed and decision.role is Role.STREET


def test_listing_question_without_a_row_answers_whether_any_rows_may_be_seen() -> None:
    department = _principal(Role.DEPARTMENT, "D2")
    assert decide(department, Action.CASE_READ).allowed
    assert not decide(department, Action.CASE_READ, CASE).allowed
    assert not decide(_principal(Role.PUBLIC, "PUB"), Action.CASE_DISPATCH).allowed
