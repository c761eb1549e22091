"""The month's case sets as set-based SQL, one query per family, grouped by assessed unit.

Each family is one SELECT over one table of events (first-level assignments, handling clocks,
closures, callbacks) joined to `units`, yielding rows (top, case_id, item_id, flags …) where
`top` is the assessed unit: the unit right under the district centre on the path of the unit
involved (a field unit's department, a section's street …). The same subquery serves the
month's aggregate (GROUP BY top, COUNT(DISTINCT …)) and the drill-down to the cases behind
one figure (WHERE top = :unit AND flag), so a figure and its cases cannot disagree.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, Select, and_, case, cast, distinct, exists, func, or_, select, text
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from gridgov.cases.models import Case, CaseAssignment, CaseClock, CaseEvent
from gridgov.feedback.models import CaseCallback
from gridgov.feedback.rules import HOTLINE_CHANNEL
from gridgov.org.models import Unit

CLOSE_KINDS = ("normal", "whistled", "forced")
SATISFIED = ("satisfied", "basic")


def top_unit(path: ColumnElement, dialect: str) -> ColumnElement:
    """The id of the unit right under the root on a materialised path '/1/5/23/' (here 5)."""
    if dialect == "postgresql":
        return cast(func.nullif(func.split_part(path, "/", 3), ""), Integer)
    # SQLite: '/1/5/23/' → '5/23/'; CAST takes the leading integer.
    return cast(func.substr(path, func.instr(func.substr(path, 2), "/") + 2), Integer)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    now: datetime


@dataclass(frozen=True)
class Family:
    """One query; `sets` maps a set key to its flag column (None: every row is in the set)."""

    name: str
    build: Callable[[str, Period], Select]
    sets: dict[str, str | None]
    item: str = "case_id"  # what a set counts: cases, or callbacks
    # Sets counted as "rows of the base set with no row failing": set -> (base set, failing flag)
    all_rows: dict[str, tuple[str, str]] | None = None
    unique: bool = False  # one row per item: counts need no DISTINCT


def _dispatched(dialect: str, p: Period) -> Select:
    a, u, c = CaseAssignment, Unit, Case
    receipt = aliased(CaseClock)
    # the receipt clock this dispatch started (签收, 1 working hour)
    started = and_(receipt.case_id == a.case_id, receipt.node == "receipt", receipt.started_at == a.assigned_at)
    hotline = c.channel_code == HOTLINE_CHANNEL
    return (select(top_unit(u.path, dialect).label("top"), a.case_id.label("case_id"),
                   _flag(a.end_reason == "returned").label("returned"),
                   _flag(and_(hotline, exists().where(started))).label("hotline"),
                   _flag(and_(hotline, exists().where(started, receipt.finished_at.is_not(None),
                                                      receipt.overdue.is_(False)))).label("responded"))
            .join(u, u.id == a.unit_id).join(c, c.id == a.case_id)
            .where(a.depth == 1, a.assigned_at >= p.start, a.assigned_at < p.end))


def _due(dialect: str, p: Period) -> Select:
    h, u, c = CaseClock, Unit, Case
    later = aliased(CaseClock)
    latest = (select(func.max(later.id)).where(later.case_id == h.case_id, later.node == "handling")
              .correlate(h).scalar_subquery())
    closed = and_(c.status == "closed", c.closed_at < p.end)
    return (select(top_unit(u.path, dialect).label("top"), h.case_id.label("case_id"),
                   _flag(closed).label("closed"),
                   _flag(and_(closed, c.close_kind != "forced", h.finished_at.is_not(None),
                              h.overdue.is_(False))).label("on_time"),
                   _flag(or_(h.overdue.is_(True), and_(h.finished_at.is_(None), h.deadline_at < p.now)))
                   .label("overdue"),
                   _flag(h.extended.is_(True)).label("extended"))
            .join(u, u.id == h.unit_id).join(c, c.id == h.case_id)
            .where(h.node == "handling", h.deadline_at >= p.start, h.deadline_at < p.end,
                   or_(h.finished_at.is_not(None), h.paused_at.is_(None)), h.id == latest))


def _handled(dialect: str, p: Period) -> Select:
    h, u, e, c = CaseClock, Unit, CaseEvent, Case
    back = aliased(CaseEvent)
    # rework_count counts reworks and reopenings: only such cases need their events searched
    sent_back = and_(c.rework_count > 0, exists().where(
        back.case_id == h.case_id, back.transition.in_(("rework", "reopen")), back.occurred_at > h.finished_at))
    return (select(top_unit(u.path, dialect).label("top"), h.case_id.label("case_id"),
                   _flag(h.overdue.is_(True)).label("late"), _flag(sent_back).label("reworked"))
            .join(u, u.id == h.unit_id).join(c, c.id == h.case_id)
            .where(h.node == "handling", h.finished_at >= p.start, h.finished_at < p.end,
                   exists().where(e.case_id == h.case_id, e.transition == "report_result",
                                  e.occurred_at == h.finished_at)))


def _closed(dialect: str, p: Period) -> Select:
    c, u = Case, Unit
    return (select(top_unit(u.path, dialect).label("top"), c.id.label("case_id"),
                   _flag(c.close_kind == "forced").label("forced"))
            .join(u, u.id == c.responsible_unit_id)
            .where(c.status == "closed", c.closed_at >= p.start, c.closed_at < p.end,
                   c.close_kind.in_(CLOSE_KINDS)))


def _callbacks(dialect: str, p: Period) -> Select:
    k, c, u = CaseCallback, Case, Unit
    return (select(top_unit(u.path, dialect).label("top"), k.case_id.label("case_id"), k.id.label("item_id"),
                   _flag(k.resolved.is_(True)).label("resolved"),
                   _flag(k.satisfaction.in_(SATISFIED)).label("satisfied"))
            .join(c, c.id == k.case_id).join(u, u.id == c.responsible_unit_id)
            .where(k.reached.is_(True), k.called_at >= p.start, k.called_at < p.end,
                   c.channel_code == HOTLINE_CHANNEL))


FAMILIES: tuple[Family, ...] = (
    Family("dispatched", _dispatched, {"dispatched": None, "returned": "returned",
                                        "hotline_dispatched": "hotline", "hotline_responded": "responded"}),
    Family("due", _due, {"due": None, "due_closed": "closed", "due_on_time": "on_time",
                         "due_overdue": "overdue", "due_extended": "extended"}, unique=True),  # latest clock
    Family("handled", _handled, {"handled": None, "handled_reworked": "reworked"},
           all_rows={"handled_on_time": ("handled", "late")}),
    Family("closed", _closed, {"closed": None, "closed_forced": "forced"}, unique=True),
    Family("callbacks", _callbacks, {"hotline_reached": None, "hotline_resolved": "resolved",
                                     "hotline_satisfied": "satisfied"}, item="item_id", unique=True),
)
SET_FAMILY = {key: family for family in FAMILIES
              for key in (*family.sets, *(family.all_rows or {}))}


def no_jit(db: Session) -> None:
    """PostgreSQL compiles costly plans (JIT), which takes longer than these month queries run."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL jit = off"))


def set_sizes(db: Session, *, period: Period) -> dict[int, dict[str, int]]:
    """{assessed unit id: {set key: size}} for every case set of the month (five queries).

    A family with one row per item sums its flags; otherwise the rows are first folded to one
    per (unit, item) — a flag holds if it holds on any row, a failing flag fails the item — and
    then summed, which is what COUNT(DISTINCT …) per flag would give, in one pass."""
    dialect = db.get_bind().dialect.name
    no_jit(db)
    sizes: dict[int, dict[str, int]] = {}
    for family in FAMILIES:
        base = family.build(dialect, period).subquery()
        flags = [f for f in family.sets.values() if f is not None]
        flags += [f for _, f in (family.all_rows or {}).values() if f not in flags]
        if family.unique:
            sub = base
        else:
            sub = (select(base.c.top, base.c[family.item], *(func.max(base.c[f]).label(f) for f in flags))
                   .group_by(base.c.top, base.c[family.item]).subquery())
        columns, keys = [sub.c.top], []
        for key, flag in family.sets.items():
            columns.append(func.count() if flag is None else func.coalesce(func.sum(sub.c[flag]), 0))
            keys.append(key)
        for key, (_base, flag) in (family.all_rows or {}).items():
            columns.append(func.count() - func.coalesce(func.sum(sub.c[flag]), 0))
            keys.append(key)
        for row in db.execute(select(*columns).group_by(sub.c.top)):
            if row[0] is not None:
                sizes.setdefault(row[0], {}).update(zip(keys, (int(v) for v in row[1:]), strict=True))
    return sizes


def set_cases(db: Session, *, period: Period, unit_id: int, set_key: str,
              visible: ColumnElement[bool] | None = None) -> list[tuple[int, str, int]]:
    """The cases behind one set of one unit: (case id, case number, items of the set in it)."""
    family = SET_FAMILY[set_key]
    dialect = db.get_bind().dialect.name
    sub = family.build(dialect, period).subquery()
    item = sub.c[family.item]
    query = select(sub.c.case_id, func.count(distinct(item)).label("n_items")).where(sub.c.top == unit_id)
    if family.all_rows and set_key in family.all_rows:
        _base, flag = family.all_rows[set_key]
        query = query.group_by(sub.c.case_id).having(func.max(sub.c[flag]) == 0)
    else:
        flag = family.sets[set_key]
        if flag is not None:
            query = query.where(sub.c[flag] == 1)
        query = query.group_by(sub.c.case_id)
    ids = query.subquery()
    rows = select(Case.id, Case.number, ids.c.n_items).join(ids, ids.c.case_id == Case.id)
    if visible is not None:
        rows = rows.where(visible)
    return [(case_id, number, items) for case_id, number, items in db.execute(rows.order_by(Case.id))]
