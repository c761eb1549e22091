"""Pure rules of public feedback: ways of reply, the reply time limit, callback sampling and
outcomes, the rating scale. No I/O."""

import hashlib
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from gridgov.calendar.rules import LimitUnit, TimeLimit

HOTLINE_CHANNEL = "hotline_12345"

# A reply is owed to every reporter with a way to reach them once the case's handling is
# reported (or the case closed without a handling report): within one working day.
REPLY_LIMIT = TimeLimit(1, LimitUnit.WORKING_DAYS)
# Transitions after which the reporter is owed a reply (the first one in the case's current
# round counts; a reopened case starts a new round and owes a new reply).
REPLY_DUE_AFTER = ("report_result", "self_handle", "close", "close_whistled", "force_close")
REPLYABLE_STATES = ("handled", "verified", "closed")

DEFAULT_SAMPLE_PERCENT = Decimal(10)
SAMPLE_BUCKETS = 10_000


class ReplyWay(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    IN_PERSON = "in_person"
    PLATFORM = "platform"

    @property
    def label(self) -> str:
        return {"phone": "电话", "sms": "短信", "in_person": "当面", "platform": "平台消息"}[self.value]


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"

    @property
    def label(self) -> str:
        return SATISFACTION_LABELS[self]

    @property
    def counts_as_satisfied(self) -> bool:
        """满意率 counts 满意 and 基本满意 (as Beijing's 12345 assessment does)."""
        return self is not Satisfaction.UNSATISFIED

    @classmethod
    def parse(cls, value: str) -> "Satisfaction":
        """The code or the Chinese label; ValueError outside the scale."""
        text = str(value).strip()
        for item, label in SATISFACTION_LABELS.items():
            if text in (item.value, label):
                return item
        raise ValueError(text)


SATISFACTION_LABELS = {Satisfaction.SATISFIED: "满意", Satisfaction.BASIC: "基本满意",
                       Satisfaction.UNSATISFIED: "不满意"}


def reply_way_problem(way: ReplyWay, *, phone: str | None, user_id: int | None) -> str | None:
    """Why a reply cannot be given this way to this reporter, or None."""
    if way in (ReplyWay.PHONE, ReplyWay.SMS) and not phone:
        return f"反映人没有留下电话，不能以{way.label}方式答复"
    if way is ReplyWay.PLATFORM and user_id is None:
        return "反映人不是平台注册用户，不能以平台消息答复"
    return None


def reachable(*, phone: str | None, user_id: int | None) -> bool:
    """A reporter who can be replied to (and is owed a reply): a phone number or an account."""
    return bool(phone) or user_id is not None


def sample_bucket(case_number: str) -> int:
    """0 … 9,999 from the SHA-256 of the case number: anyone can recompute it."""
    digest = hashlib.sha256(case_number.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % SAMPLE_BUCKETS


def sampled_as(*, channel: str, case_number: str, share_percent: Decimal) -> str | None:
    """Why a closed case is called back: every 12345 case ("hotline"), others when the bucket
    of their number falls under the share in force ("sample"); None when not sampled."""
    if channel == HOTLINE_CHANNEL:
        return "hotline"
    if sample_bucket(case_number) < share_percent * SAMPLE_BUCKETS / 100:
        return "sample"
    return None


def share_problem(value: object) -> str | None:
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "抽样比例必须是数字"
    if not share.is_finite() or share < 0 or share > 100:
        return "抽样比例必须在 0 到 100 之间"
    if share != share.quantize(Decimal("0.01")):
        return "抽样比例最多两位小数"
    return None


def callback_problems(*, reached: bool, resolved: bool | None, satisfaction: str | None) -> list[dict]:
    """An unreachable call records no outcome; a reached one records both outcomes."""
    if not reached:
        return [{"field": f, "message": "未接通的回访不能填写此项"}
                for f, v in (("resolved", resolved), ("satisfaction", satisfaction)) if v is not None]
    return [{"field": f, "message": "接通的回访须填写此项"}
            for f, v in (("resolved", resolved), ("satisfaction", satisfaction)) if v is None]
