"""The whistle's pure rules: states, the transition table, node limits, the responsiveness
formula (报到响应度), the four ratings and the combined scores. No I/O.

The transition table names, for each step, the whistle states it may start from, the state
it leads to, the policy action the actor needs (checked against the whistle's facts by
gridgov.auth.policy), whether it acts on one summons (and from which summons states), and
the payload fields it requires. Anything else is refused: a wrong state is a 409, a wrong
actor a 403, a missing field a 422.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from gridgov.auth.policy import Action
from gridgov.calendar.rules import LimitUnit, TimeLimit, WorkingCalendar
from gridgov.errors import IllegalTransition, InvalidInput
from gridgov.org.rules import UnitKind


# --- scenarios ---------------------------------------------------------------------------

class Area(StrEnum):
    """The four areas in which a street may whistle (吹哨范围)."""

    ENFORCEMENT = "enforcement"
    KEY_WORK = "key_work"
    EMERGENCY = "emergency"
    FALLBACK = "fallback"

    @property
    def label(self) -> str:
        return AREA_LABELS[self]

    @classmethod
    def parse(cls, value: Any) -> "Area | None":
        """The area of a code or a Chinese label; None for anything else."""
        if isinstance(value, str):
            text = value.strip()
            for area, label in AREA_LABELS.items():
                if text in (area.value, label):
                    return area
        return None


AREA_LABELS: dict[Area, str] = {
    Area.ENFORCEMENT: "综合执法",
    Area.KEY_WORK: "重点工作",
    Area.EMERGENCY: "应急处置",
    Area.FALLBACK: "兜底责任",
}
# Without a case, a street may whistle only for key work or an emergency.
DIRECT_AREAS = frozenset({Area.KEY_WORK, Area.EMERGENCY})
# Who may be summoned: district departments, their field units, utilities and other bodies.
SUMMONABLE_KINDS = frozenset({UnitKind.DEPARTMENT, UnitKind.FIELD_UNIT, UnitKind.OUTSIDE_BODY})


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return {"normal": "一般", "urgent": "紧急"}[self.value]


class ReplyWay(StrEnum):
    """How the street replied one-to-one to the reporter (一对一反馈)."""

    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    VISIT = "visit"
    PLATFORM = "platform"

    @property
    def label(self) -> str:
        return {"phone": "电话", "sms": "短信", "wechat": "微信", "visit": "上门",
                "platform": "平台消息"}[self.value]


# --- states ------------------------------------------------------------------------------

class WhistleStatus(StrEnum):
    FILED = "filed"  # started and filed with the district (备案), summons not sent yet
    SUMMONED = "summoned"  # the district sent the summons; departments report in and handle
    REPORTED = "reported"  # the street reported the outcome and rated; waiting for the district
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return WHISTLE_STATUS_LABELS[self]


WHISTLE_STATUS_LABELS = {
    WhistleStatus.FILED: "已备案待派发",
    WhistleStatus.SUMMONED: "已派发办理中",
    WhistleStatus.REPORTED: "已上报待核查",
    WhistleStatus.CLOSED: "已结案",
    WhistleStatus.CANCELLED: "已撤哨",
}
OPEN_WHISTLE_STATES = frozenset({WhistleStatus.FILED, WhistleStatus.SUMMONED, WhistleStatus.REPORTED})
FINAL_WHISTLE_STATES = frozenset({WhistleStatus.CLOSED, WhistleStatus.CANCELLED})


class SummonsStatus(StrEnum):
    PENDING = "pending"  # chosen by the street, not sent by the district yet
    SENT = "sent"  # sent: the report-in clock runs
    REPORTED_IN = "reported_in"  # reported in, handling its part
    DONE = "done"  # its part done, result uploaded
    MISSED = "missed"  # never reported in, and its deadline had passed when the whistle ended
    WITHDRAWN = "withdrawn"  # the whistle ended before it was sent or before its deadline

    @property
    def label(self) -> str:
        return SUMMONS_STATUS_LABELS[self]


SUMMONS_STATUS_LABELS = {
    SummonsStatus.PENDING: "待派发",
    SummonsStatus.SENT: "已派发待报到",
    SummonsStatus.REPORTED_IN: "已报到处置中",
    SummonsStatus.DONE: "已办结",
    SummonsStatus.MISSED: "未报到",
    SummonsStatus.WITHDRAWN: "已撤回",
}


class Assessment(StrEnum):
    """How one summons is assessed on its report-in (一哨一考)."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"
    WITHDRAWN = "withdrawn"  # not assessed

    @property
    def label(self) -> str:
        return {"on_time": "按时报到", "late": "超时报到", "missed": "未报到",
                "withdrawn": "不考核"}[self.value]


# --- the transition table ----------------------------------------------------------------

SAME = "same"
START = "start"  # the whistle's first event; not in the table (it creates the whistle)
START_LABEL = "吹哨备案"


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[WhistleStatus]
    target: WhistleStatus | str  # a status or SAME
    action: Action
    summons_sources: frozenset[SummonsStatus] | None = None  # acts on one summons if set
    required: tuple[str, ...] = ()

    @property
    def on_summons(self) -> bool:
        return self.summons_sources is not None


S, SS = WhistleStatus, SummonsStatus


def _t(name: str, label: str, sources: set[WhistleStatus], target: WhistleStatus | str, action: Action,
       *, summons: set[SummonsStatus] | None = None, required: tuple[str, ...] = ()) -> Transition:
    return Transition(name, label, frozenset(sources), target, action,
                      frozenset(summons) if summons is not None else None, required)


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    # the district sends every pending summons (派发); again after 追哨
    _t("summon", "派发", {S.FILED, S.SUMMONED}, S.SUMMONED, Action.WHISTLE_SUMMON),
    # the street summons more departments while the whistle is open (追哨)
    _t("add_departments", "追哨", {S.FILED, S.SUMMONED}, SAME, Action.WHISTLE_START,
       required=("departments",)),
    # a summoned department reports in (报到), then reports its part done with its result
    _t("report_in", "报到", {S.SUMMONED}, SAME, Action.WHISTLE_REPORT_IN, summons={SS.SENT},
       required=("summons_id", "place", "leader", "headcount")),
    _t("finish_part", "处置反馈", {S.SUMMONED}, SAME, Action.WHISTLE_REPORT_IN,
       summons={SS.REPORTED_IN}, required=("summons_id", "result")),
    # the street reports the outcome, replies to the reporter and rates every department
    _t("report_outcome", "结果上报与评价", {S.SUMMONED}, S.REPORTED, Action.WHISTLE_RATE,
       required=("outcome", "ratings")),
    # the district verifies: sends the outcome back, or closes the whistle and its case
    _t("return_outcome", "退回重报", {S.REPORTED}, S.SUMMONED, Action.CASE_VERIFY, required=("reason",)),
    _t("close", "核查结案", {S.REPORTED}, S.CLOSED, Action.CASE_CLOSE, required=("note",)),
    # the street calls the whistle off, with a reason (撤哨)
    _t("cancel", "撤哨", {S.FILED, S.SUMMONED}, S.CANCELLED, Action.WHISTLE_START, required=("reason",)),
)}


def transition_label(name: str) -> str:
    if name == START:
        return START_LABEL
    return TRANSITIONS[name].label if name in TRANSITIONS else name


def transition_named(name: str) -> Transition:
    try:
        return TRANSITIONS[name]
    except KeyError:
        raise InvalidInput(f"未知的操作：{name}") from None


def _missing(payload: Mapping[str, Any], fields: Sequence[str]) -> list[str]:
    return [field for field in fields if payload.get(field) in (None, "", [], {})]


def check_transition(name: str, *, status: WhistleStatus, payload: Mapping[str, Any],
                     summons_status: SummonsStatus | None = None) -> Transition:
    """The transition, if it may start from `status` (and, for a summons step, the summons'
    `summons_status`) and `payload` has every required field."""
    transition = transition_named(name)
    if status not in transition.sources:
        allowed = "、".join(sorted(s.label for s in transition.sources))
        raise IllegalTransition(
            f"吹哨处于“{status.label}”状态，不能{transition.label}（只能在{allowed}时{transition.label}）",
            status=status.value, transition=name)
    summons_sources = transition.summons_sources
    if summons_sources is not None and summons_status is not None and summons_status not in summons_sources:
        allowed = "、".join(sorted(s.label for s in summons_sources))
        raise IllegalTransition(
            f"该应哨部门处于“{summons_status.label}”状态，不能{transition.label}（只能在{allowed}时）",
            status=summons_status.value, transition=name)
    missing = _missing(payload, transition.required)
    if missing:
        raise InvalidInput(f"{transition.label}需要填写：{'、'.join(missing)}",
                           errors=[{"field": field, "message": "必填"} for field in missing])
    return transition


def next_status(transition: Transition, status: WhistleStatus) -> WhistleStatus:
    return status if transition.target == SAME else WhistleStatus(transition.target)


# --- clocks ------------------------------------------------------------------------------

class Node(StrEnum):
    """The clocked steps of a whistle; each has its own deadline."""

    SUMMON = "summon"  # the district sends the summons (派发)
    REPORT_IN = "report_in"  # each department reports in (报到), the situation's limit
    OUTCOME = "outcome"  # the street reports the outcome once every department is done
    VERIFICATION = "verification"  # the district verifies and closes

    @property
    def label(self) -> str:
        return {"summon": "派发", "report_in": "报到", "outcome": "结果上报",
                "verification": "核查结案"}[self.value]


SUMMON_LIMIT_URGENT = TimeLimit(10, LimitUnit.NATURAL_MINUTES)
SUMMON_LIMIT = TimeLimit(30, LimitUnit.NATURAL_MINUTES)
OUTCOME_LIMIT = TimeLimit(1, LimitUnit.WORKING_DAYS)
VERIFICATION_LIMIT = TimeLimit(1, LimitUnit.WORKING_DAYS)


def summon_limit(*, urgent: bool, area: Area) -> TimeLimit:
    return SUMMON_LIMIT_URGENT if urgent or area is Area.EMERGENCY else SUMMON_LIMIT


# --- responsiveness (报到响应度) -------------------------------------------------------------

FULL_MARKS = Decimal(100)
ZERO_AT_MULTIPLE = Decimal(3)  # late report-ins lose marks linearly, reaching 0 at 3x the limit
_ONE_DECIMAL = Decimal("0.1")


def report_in_deadline(calendar: WorkingCalendar, *, sent_at: datetime, limit: TimeLimit,
                       assemble_at: datetime | None) -> datetime:
    """When a summons must be reported in: the situation's limit counted from the moment it
    was sent, on the working calendar for working-time limits — or the street's time to
    assemble, if that is later."""
    deadline = calendar.deadline(sent_at, limit)
    return max(deadline, assemble_at) if assemble_at is not None else deadline


def cutoff(calendar: WorkingCalendar, *, deadline: datetime, limit: TimeLimit) -> datetime:
    """The moment responsiveness reaches 0: (ZERO_AT_MULTIPLE - 1) limits after the deadline.
    A summons not reported in by then counts as missed even while the whistle is open."""
    return calendar.deadline(deadline, TimeLimit(limit.value * (ZERO_AT_MULTIPLE - 1), limit.unit))


def responsiveness(lateness: Decimal, limit: Decimal) -> Decimal:
    """报到响应度 of one summons, 0–100 with one decimal (half up).

    `lateness` is the time between the deadline and the report-in, in the unit of the limit
    (working time for working-time limits; ≤ 0 when on time); `limit` is the limit's value.

        lateness ≤ 0                 → 100
        0 < lateness < 2 × limit     → 100 × (1 − lateness / (2 × limit))
        lateness ≥ 2 × limit         → 0     (the report-in came at or after 3× the limit)
    """
    if limit <= 0:
        raise ValueError("a report-in limit is positive")
    if lateness <= 0:
        return FULL_MARKS.quantize(_ONE_DECIMAL)
    grace = limit * (ZERO_AT_MULTIPLE - 1)
    if lateness >= grace:
        return Decimal(0).quantize(_ONE_DECIMAL)
    return (FULL_MARKS * (1 - lateness / grace)).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ReportInScore:
    lateness: Decimal  # in the limit's unit; negative when early
    responsiveness: Decimal
    assessment: Assessment


def score_report_in(calendar: WorkingCalendar, *, deadline: datetime, reported_at: datetime,
                    limit: TimeLimit) -> ReportInScore:
    """Score a report-in. On time means no limit time has passed since the deadline (for a
    working-time limit: no working time, so a report-in in the lunch break after a 12:00
    deadline is on time)."""
    lateness = calendar.elapsed(deadline, reported_at, limit.unit)
    return ReportInScore(lateness=lateness, responsiveness=responsiveness(lateness, limit.value),
                         assessment=Assessment.ON_TIME if lateness <= 0 else Assessment.LATE)


def ended_without_report_in(*, sent: bool, deadline: datetime | None, ended_at: datetime) -> Assessment:
    """A summons not reported in when its whistle ends (outcome reported or cancelled): missed
    if it had been sent and its deadline had passed, not assessed (withdrawn) otherwise."""
    if sent and deadline is not None and ended_at > deadline:
        return Assessment.MISSED
    return Assessment.WITHDRAWN


# --- ratings (街道评价) ----------------------------------------------------------------------

RATING_POINTS: tuple[str, ...] = ("efficiency", "cooperation", "professionalism", "responsibility")
RATING_LABELS = {"efficiency": "报到效率", "cooperation": "配合度", "professionalism": "专业性",
                 "responsibility": "担当意识"}
RATING_MIN, RATING_MAX = 1, 5
LOW_MARK = 2  # a mark at or below this needs a comment


def rating_problems(rating: Mapping[str, Any], *, prefix: str = "") -> list[dict[str, str]]:
    """Every problem of one department's rating: each point a whole number 1–5, and a comment
    whenever a point is 2 or less."""
    problems = []
    low = []
    for point in RATING_POINTS:
        value = rating.get(point)
        field = f"{prefix}{point}"
        if value is None:
            problems.append({"field": field, "message": f"缺少“{RATING_LABELS[point]}”评分"})
        elif isinstance(value, bool) or not isinstance(value, int) or not RATING_MIN <= value <= RATING_MAX:
            problems.append({"field": field, "message":
                             f"“{RATING_LABELS[point]}”评分应为 {RATING_MIN}–{RATING_MAX} 的整数，收到 {value!r}"})
        elif value <= LOW_MARK:
            low.append(RATING_LABELS[point])
    comment = rating.get("comment")
    if low and not (isinstance(comment, str) and comment.strip()):
        problems.append({"field": f"{prefix}comment",
                         "message": f"{'、'.join(low)}评分不高于 {LOW_MARK} 分，须填写评价说明"})
    return problems


# --- combined judgement ------------------------------------------------------------------

RESPONSIVENESS_WEIGHT = Decimal("0.6")
RATING_WEIGHT = Decimal("0.4")
_TWO_DECIMALS = Decimal("0.01")


def rating_as_marks(average: Decimal) -> Decimal:
    """A 1–5 average on the 0–100 scale: 1 → 0, 3 → 50, 5 → 100."""
    return (average - RATING_MIN) * FULL_MARKS / (RATING_MAX - RATING_MIN)


def department_score(responsiveness_average: Decimal | None, rating_average: Decimal | None) -> Decimal | None:
    """0.6 × average responsiveness + 0.4 × the street ratings' average on 0–100; either part
    alone when the other has no data yet; None without either."""
    if responsiveness_average is None and rating_average is None:
        return None
    if rating_average is None:
        score = responsiveness_average
    elif responsiveness_average is None:
        score = rating_as_marks(rating_average)
    else:
        score = (RESPONSIVENESS_WEIGHT * responsiveness_average
                 + RATING_WEIGHT * rating_as_marks(rating_average))
    return Decimal(score).quantize(_TWO_DECIMALS, rounding=ROUND_HALF_UP)


def street_score(*, closed: int, whistles: int) -> Decimal | None:
    """A street's whistles brought to a verified close (闭环率), 0–100: closed / started."""
    if whistles == 0:
        return None
    return (FULL_MARKS * closed / whistles).quantize(_TWO_DECIMALS, rounding=ROUND_HALF_UP)
