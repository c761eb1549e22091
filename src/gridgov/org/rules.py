"""Pure rules of the organisation tree: unit kinds, which parent each kind may have, validity."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class UnitKind(StrEnum):
    DISTRICT_CENTRE = "district_centre"
    STREET = "street"
    SUBCENTRE = "subcentre"
    COMMUNITY = "community"
    DEPARTMENT = "department"
    FIELD_UNIT = "field_unit"
    SECTION = "section"
    OUTSIDE_BODY = "outside_body"
    PUBLIC = "public"

    @property
    def label(self) -> str:
        return UNIT_KIND_LABELS[self]

    @classmethod
    def from_label(cls, text: str) -> "UnitKind":
        """Accept the Chinese label (as in Excel sheets) or the code."""
        text = text.strip()
        for kind, label in UNIT_KIND_LABELS.items():
            if text in (label, kind.value):
                return kind
        raise ValueError(text)


UNIT_KIND_LABELS: dict[UnitKind, str] = {
    UnitKind.DISTRICT_CENTRE: "区网格化服务管理中心",
    UnitKind.STREET: "街道",
    UnitKind.SUBCENTRE: "街道网格分中心",
    UnitKind.COMMUNITY: "社区",
    UnitKind.DEPARTMENT: "职能部门",
    UnitKind.FIELD_UNIT: "派出机构",
    UnitKind.SECTION: "科室",
    UnitKind.OUTSIDE_BODY: "社会单位",
    UnitKind.PUBLIC: "社会公众",
}

# Which kinds of parent each kind may hang under; None means "is a root".
ALLOWED_PARENTS: dict[UnitKind, frozenset[UnitKind] | None] = {
    UnitKind.DISTRICT_CENTRE: None,
    UnitKind.STREET: frozenset({UnitKind.DISTRICT_CENTRE}),
    UnitKind.SUBCENTRE: frozenset({UnitKind.STREET}),
    UnitKind.COMMUNITY: frozenset({UnitKind.STREET}),
    UnitKind.DEPARTMENT: frozenset({UnitKind.DISTRICT_CENTRE}),
    UnitKind.FIELD_UNIT: frozenset({UnitKind.DEPARTMENT, UnitKind.OUTSIDE_BODY}),
    UnitKind.SECTION: frozenset({UnitKind.STREET, UnitKind.DEPARTMENT}),
    UnitKind.OUTSIDE_BODY: frozenset({UnitKind.DISTRICT_CENTRE, UnitKind.STREET}),
    UnitKind.PUBLIC: frozenset({UnitKind.DISTRICT_CENTRE}),
}

CODE_MAX_LENGTH = 32


def parent_problem(kind: UnitKind, parent_kind: UnitKind | None) -> str | None:
    """Why a unit of `kind` may not hang under a unit of `parent_kind`, or None if it may."""
    allowed = ALLOWED_PARENTS[kind]
    if allowed is None:
        return None if parent_kind is None else f"{kind.label}是根单位，不能有上级单位"
    if parent_kind is None:
        return f"{kind.label}必须有上级单位"
    if parent_kind not in allowed:
        names = "、".join(sorted(k.label for k in allowed))
        return f"{kind.label}的上级单位必须是{names}，而不是{parent_kind.label}"
    return None


def code_problem(code: str) -> str | None:
    if not code or not code.strip():
        return "编码不能为空"
    if code != code.strip():
        return "编码首尾不能有空格"
    if len(code) > CODE_MAX_LENGTH:
        return f"编码不能超过{CODE_MAX_LENGTH}个字符"
    if not all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in code):
        return "编码只能包含字母、数字和 - _ ."
    return None


def validity_problem(valid_from: date, valid_to: date | None) -> str | None:
    if valid_to is not None and valid_to < valid_from:
        return "失效日期不能早于生效日期"
    return None


@dataclass(frozen=True)
class Validity:
    valid_from: date
    valid_to: date | None  # inclusive last day; None = open-ended

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def child_path(parent_path: str | None, unit_id: int) -> str:
    """Materialised path of ancestor ids, e.g. '/1/5/23/', for subtree filters with LIKE."""
    return f"{parent_path or '/'}{unit_id}/"


