"""The case lifecycle as one explicit transition table, and the pure rules around it.

A transition names the states it may start from, the state it leads to, the policy action
the actor needs (checked against the case's facts by gridgov.auth.policy), whether the
actor must be the case's current holder, and the payload fields it requires. Anything not in
the table is refused: a wrong state is a 409, a wrong actor a 403, a missing field a 422.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gridgov.auth.policy import Action
from gridgov.calendar.rules import LimitUnit, TimeLimit
from gridgov.errors import IllegalTransition, InvalidInput


class CaseStatus(StrEnum):
    REPORTED = "reported"
    REJECTED = "rejected"
    MERGED = "merged"
    FILED = "filed"
    TO_WHISTLE = "to_whistle"
    DISPATCHED = "dispatched"
    RECEIVED = "received"
    RETURNED = "returned"
    HANDLED = "handled"
    VERIFIED = "verified"
    SUSPENDED = "suspended"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    CaseStatus.REPORTED: "待受理",
    CaseStatus.REJECTED: "不予立案",
    CaseStatus.MERGED: "已合并",
    CaseStatus.FILED: "已立案待派遣",
    CaseStatus.TO_WHISTLE: "待吹哨",
    CaseStatus.DISPATCHED: "已派遣待签收",
    CaseStatus.RECEIVED: "处置中",
    CaseStatus.RETURNED: "已回退待重新派遣",
    CaseStatus.HANDLED: "已处置待核查",
    CaseStatus.VERIFIED: "核查通过待结案",
    CaseStatus.SUSPENDED: "挂起",
    CaseStatus.CLOSED: "已结案",
}

FINAL_STATES = frozenset({CaseStatus.REJECTED, CaseStatus.MERGED, CaseStatus.CLOSED})
OPEN_STATES = frozenset(CaseStatus) - FINAL_STATES
# States in which a unit holds the case and its handling clock runs.
HELD_STATES = frozenset({CaseStatus.DISPATCHED, CaseStatus.RECEIVED})


class Grade(StrEnum):
    L1 = "L1"  # simple: the finder handles it on the spot, no flow
    L2 = "L2"  # clear responsibility: dispatched to one unit
    L3 = "L3"  # cross-functional: the street whistles

    @property
    def label(self) -> str:
        return {"L1": "简单问题", "L2": "职责清晰的一般问题", "L3": "职能交叉、权责不清的问题"}[self.value]


class Node(StrEnum):
    """The clocked nodes of a case; each has its own deadline."""

    INTAKE = "intake"  # filing and dispatch (受理派遣)
    RECEIPT = "receipt"  # the unit opens the case (签收)
    HANDLING = "handling"  # the type's handling limit (处置)
    VERIFICATION = "verification"  # on-site check (核查)

    @property
    def label(self) -> str:
        return {"intake": "立案派遣", "receipt": "签收", "handling": "处置",
                "verification": "核查"}[self.value]


SAME = "same"  # the state does not change (extensions, supervision)
PREVIOUS = "previous"  # back to the state the case was suspended in


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[CaseStatus]
    target: CaseStatus | str  # a status, SAME or PREVIOUS
    action: Action
    by_holder: bool = False  # the actor must hold the case (its unit or a unit above it)
    required: tuple[str, ...] = ()


S = CaseStatus
_ANY_OPEN = OPEN_STATES


def _t(name: str, label: str, sources: set[CaseStatus] | frozenset[CaseStatus], target: CaseStatus | str,
       action: Action, *, by_holder: bool = False, required: tuple[str, ...] = ()) -> Transition:
    return Transition(name, label, frozenset(sources), target, action, by_holder, required)


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    # reported -> filed / rejected / merged / closed (L1)
    _t("file", "立案", {S.REPORTED}, S.FILED, Action.CASE_FILE, required=("type_code",)),
    _t("reject", "不予立案", {S.REPORTED}, S.REJECTED, Action.CASE_FILE, required=("reason",)),
    _t("merge", "合并", {S.REPORTED, S.FILED}, S.MERGED, Action.CASE_MERGE, required=("into_case_id",)),
    _t("self_handle", "自行处置", {S.REPORTED, S.FILED}, S.CLOSED, Action.CASE_SELF_HANDLE,
       required=("type_code", "result", "before_photo", "after_photo")),
    # filed / returned -> dispatched (L2) / to_whistle (L3)
    _t("dispatch", "派遣", {S.FILED, S.RETURNED, S.TO_WHISTLE}, S.DISPATCHED, Action.CASE_DISPATCH,
       required=("unit_code",)),
    _t("send_to_whistle", "转街道吹哨", {S.FILED, S.RETURNED}, S.TO_WHISTLE, Action.CASE_DISPATCH,
       required=("reason",)),
    # the holder: receive, pass on inside, return, report the result
    _t("receive", "签收", {S.DISPATCHED}, S.RECEIVED, Action.CASE_HANDLE, by_holder=True),
    _t("redispatch", "二次派发", {S.RECEIVED}, S.DISPATCHED, Action.CASE_HANDLE, by_holder=True,
       required=("unit_code",)),
    _t("holder_to_whistle", "街道吹哨", {S.RECEIVED}, S.TO_WHISTLE, Action.WHISTLE_START,
       by_holder=True, required=("reason",)),
    _t("return_to_district", "回退", {S.DISPATCHED, S.RECEIVED}, S.RETURNED, Action.CASE_HANDLE,
       by_holder=True, required=("reason",)),
    _t("return_to_sender", "退回派发单位", {S.DISPATCHED, S.RECEIVED}, S.RECEIVED, Action.CASE_HANDLE,
       by_holder=True, required=("reason",)),
    _t("report_result", "处置反馈", {S.RECEIVED}, S.HANDLED, Action.CASE_HANDLE, by_holder=True,
       required=("result",)),
    # extensions: requested by the holder, decided by the district; the state does not change
    _t("request_extension", "申请延期", {S.DISPATCHED, S.RECEIVED}, SAME, Action.CASE_HANDLE,
       by_holder=True, required=("extra_value", "extra_unit", "reason")),
    _t("decide_extension", "审批延期", {S.DISPATCHED, S.RECEIVED}, SAME,
       Action.CASE_DECIDE_EXTENSION, required=("approved",)),
    # suspension stops the clocks
    _t("suspend", "挂起", {S.DISPATCHED, S.RECEIVED}, S.SUSPENDED, Action.CASE_DISPATCH,
       required=("reason",)),
    _t("resume", "解除挂起", {S.SUSPENDED}, PREVIOUS, Action.CASE_DISPATCH),
    # verification and closure
    _t("verify", "核查通过", {S.HANDLED}, S.VERIFIED, Action.CASE_VERIFY, required=("note",)),
    _t("rework", "返工", {S.HANDLED, S.VERIFIED}, S.RECEIVED, Action.CASE_VERIFY, required=("reason",)),
    _t("close", "结案", {S.VERIFIED}, S.CLOSED, Action.CASE_CLOSE),
    # an L3 case is closed when the district closes the whistle that settled it
    _t("close_whistled", "吹哨办结", {S.TO_WHISTLE}, S.CLOSED, Action.CASE_CLOSE, required=("note",)),
    _t("force_close", "强制结案", _ANY_OPEN, S.CLOSED, Action.CASE_FORCE_CLOSE, required=("reason",)),
    # the district sends a closed case back to its last holder (e.g. after an unsatisfied callback)
    _t("reopen", "重新办理", {S.CLOSED}, S.RECEIVED, Action.CASE_DISPATCH, required=("reason",)),
    # supervision (挂账督办) is a flag on an open case, cleared by 销账
    _t("supervise", "挂账督办", _ANY_OPEN, SAME, Action.CASE_SUPERVISE, required=("reason",)),
    _t("clear_supervision", "销账", _ANY_OPEN, SAME, Action.CASE_SUPERVISE, required=("reason",)),
)}


def transition_named(name: str) -> Transition:
    try:
        return TRANSITIONS[name]
    except KeyError:
        raise InvalidInput(f"未知的操作：{name}") from None


def check_transition(
    name: str, *, status: CaseStatus, payload: Mapping[str, Any]
) -> Transition:
    """The transition, if it may start from `status` and `payload` has every required field."""
    transition = transition_named(name)
    if status not in transition.sources:
        allowed = "、".join(sorted(s.label for s in transition.sources))
        raise IllegalTransition(
            f"案件处于“{status.label}”状态，不能{transition.label}（只能从{allowed}状态{transition.label}）",
            status=status.value, transition=name,
        )
    missing = [field for field in transition.required if payload.get(field) in (None, "", [])]
    if missing:
        raise InvalidInput(
            f"{transition.label}需要填写：{'、'.join(missing)}",
            errors=[{"field": field, "message": "必填"} for field in missing],
        )
    return transition


def next_status(transition: Transition, *, status: CaseStatus, suspended_from: CaseStatus | None) -> CaseStatus:
    if transition.target == SAME:
        return status
    if transition.target == PREVIOUS:
        assert suspended_from is not None, "a suspended case remembers its previous state"
        return suspended_from
    return CaseStatus(transition.target)


@dataclass(frozen=True)
class ClockEffect:
    """Which node clocks a transition finishes, starts (anew), pauses or resumes."""

    finish: tuple[Node, ...] = ()
    start: tuple[Node, ...] = ()
    pause_all: bool = False
    resume_all: bool = False


N = Node
_FINISH_ALL = ClockEffect(finish=tuple(Node))
CLOCK_EFFECTS: dict[str, ClockEffect] = {
    "file": ClockEffect(),
    "reject": _FINISH_ALL,
    "merge": _FINISH_ALL,
    "self_handle": _FINISH_ALL,
    "dispatch": ClockEffect(finish=(N.INTAKE,), start=(N.RECEIPT, N.HANDLING)),
    "send_to_whistle": _FINISH_ALL,
    "receive": ClockEffect(finish=(N.RECEIPT,)),
    "redispatch": ClockEffect(start=(N.RECEIPT,)),
    "holder_to_whistle": _FINISH_ALL,
    "return_to_district": ClockEffect(finish=(N.RECEIPT, N.HANDLING), start=(N.INTAKE,)),
    "return_to_sender": ClockEffect(finish=(N.RECEIPT,)),
    "report_result": ClockEffect(finish=(N.RECEIPT, N.HANDLING), start=(N.VERIFICATION,)),
    "request_extension": ClockEffect(),
    "decide_extension": ClockEffect(),
    "suspend": ClockEffect(pause_all=True),
    "resume": ClockEffect(resume_all=True),
    "verify": ClockEffect(finish=(N.VERIFICATION,)),
    "rework": ClockEffect(finish=(N.VERIFICATION,), start=(N.HANDLING,)),
    "close": _FINISH_ALL,
    "close_whistled": _FINISH_ALL,
    "force_close": _FINISH_ALL,
    "reopen": ClockEffect(start=(N.HANDLING,)),
    "supervise": ClockEffect(),
    "clear_supervision": ClockEffect(),
}


# Node limits of the city rules (DOMAIN §5); handling takes the type's own limit.
INTAKE_LIMIT_URGENT = TimeLimit(10, LimitUnit.NATURAL_MINUTES)
INTAKE_LIMIT = TimeLimit(30, LimitUnit.NATURAL_MINUTES)
RECEIPT_LIMIT = TimeLimit(1, LimitUnit.WORKING_HOURS)
VERIFICATION_LIMIT = TimeLimit(1, LimitUnit.NATURAL_HOURS)


def node_limit(node: Node, *, urgent: bool, handling_limit: TimeLimit | None) -> TimeLimit:
    match node:
        case Node.INTAKE:
            return INTAKE_LIMIT_URGENT if urgent else INTAKE_LIMIT
        case Node.RECEIPT:
            return RECEIPT_LIMIT
        case Node.HANDLING:
            assert handling_limit is not None, "a case is typed before it is dispatched"
            return handling_limit
        case Node.VERIFICATION:
            return VERIFICATION_LIMIT
