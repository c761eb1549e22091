"""The ledgers (台账) the district keeps: forced closures, multiple transfers (and those of them
force-closed), long-stalled cases, and cases under supervision (挂账督办) until cleared (销账).

Each ledger is a list of rows (dicts keyed by column) over the cases the principal may see,
and an Excel sheet with the same columns in Chinese.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from gridgov import clock
from gridgov.analytics.rules import check_range
from gridgov.analytics.service import local_range, today
from gridgov.auth.policy import Principal
from gridgov.cases import queries
from gridgov.cases.models import Case, CaseAssignment, CaseEvent
from gridgov.cases.rules import OPEN_STATES, CaseStatus
from gridgov.config import Settings
from gridgov.errors import InvalidInput
from gridgov.excel import SheetSpec, write_workbook
from gridgov.org.models import Unit

MAX_ROWS = 5000


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    number_format: str | None = None


@dataclass(frozen=True)
class Ledger:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[dict]


def _units(db: Session, ids: set[int | None]) -> dict[int, Unit]:
    wanted = {i for i in ids if i is not None}
    return {u.id: u for u in db.scalars(select(Unit).where(Unit.id.in_(wanted)))} if wanted else {}


def _name(units: dict[int, Unit], unit_id: int | None) -> str | None:
    unit = units.get(unit_id)
    return None if unit is None else (unit.short_name or unit.name)


def _days(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 86400, 1)


def _base_case_columns() -> tuple[Column, ...]:
    return (Column("number", "案件编号"), Column("type_code", "事项编码"), Column("street", "街道"),
            Column("community", "社区"), Column("reported_at", "上报时间", "yyyy-mm-dd hh:mm"))


def _case_row(case: Case, units: dict[int, Unit]) -> dict:
    return {"case_id": case.id, "number": case.number, "type_code": case.type_code,
            "street": _name(units, case.street_id), "community": _name(units, case.community_id),
            "reported_at": case.reported_at}


def forced_closures(db: Session, *, settings: Settings, principal: Principal, start: date, end: date,
                    min_transfers: int = 0) -> Ledger:
    """强制结案台账: cases force-closed in the period, with the reason and who decided; with
    `min_transfers` ≥ 3 it is the multi-transfer forced-closure ledger (多次流转强制结案台账)."""
    check_range(start, end, today=today(settings))
    begin, finish = local_range(start, end, settings)
    transfers = (select(func.count()).where(CaseAssignment.case_id == Case.id).correlate(Case)
                 .scalar_subquery())
    event = aliased(CaseEvent)
    query = (select(Case, transfers, event.reason, event.actor_name)
             .join(event, (event.case_id == Case.id) & (event.transition == "force_close")
                   & (event.occurred_at == Case.closed_at))
             .where(queries.visible(principal), Case.status == CaseStatus.CLOSED, Case.close_kind == "forced",
                    Case.closed_at >= begin, Case.closed_at < finish)
             .order_by(Case.closed_at, Case.id).limit(MAX_ROWS))
    if min_transfers:
        query = query.where(transfers >= min_transfers)
    rows = db.execute(query).all()
    units = _units(db, {c.street_id for c, *_ in rows} | {c.community_id for c, *_ in rows}
                   | {c.responsible_unit_id for c, *_ in rows})
    out = []
    for case, n, reason, actor in rows:
        out.append(_case_row(case, units) | {
            "responsible_unit": _name(units, case.responsible_unit_id), "transfers": n,
            "returns": case.return_count, "closed_at": case.closed_at, "reason": reason, "decided_by": actor,
            "supervised": "是" if case.supervised else "否"})
    name, title = ("multi_transfer_forced", "多次流转强制结案台账") if min_transfers else ("forced", "强制结案台账")
    columns = (*_base_case_columns(), Column("responsible_unit", "责任单位"), Column("transfers", "流转次数"),
               Column("returns", "退回次数"), Column("closed_at", "强制结案时间", "yyyy-mm-dd hh:mm"),
               Column("reason", "强制结案理由"), Column("decided_by", "操作人"), Column("supervised", "挂账督办"))
    return Ledger(name, title, columns, out)


def multi_transfer(db: Session, *, settings: Settings, principal: Principal, start: date, end: date,
                   min_transfers: int = 3, forced_only: bool = False) -> Ledger:
    """多次流转台账: cases reported in the period and sent to units `min_transfers` times or more
    (every dispatch, re-dispatch after a return, secondary dispatch, sending to the street to
    whistle is one transfer), with the units in order; `forced_only` keeps the force-closed."""
    if min_transfers < 2:
        raise InvalidInput("流转次数下限至少为 2", errors=[{"field": "min_transfers", "message": "过小"}])
    check_range(start, end, today=today(settings))
    begin, finish = local_range(start, end, settings)
    in_period = (Case.reported_at >= begin, Case.reported_at < finish)
    transfers = (select(CaseAssignment.case_id, func.count().label("n"))
                 .join(Case, Case.id == CaseAssignment.case_id).where(*in_period)
                 .group_by(CaseAssignment.case_id).having(func.count() >= min_transfers).subquery())
    query = (select(Case, transfers.c.n).join(transfers, transfers.c.case_id == Case.id)
             .where(queries.visible(principal))
             .order_by(transfers.c.n.desc(), Case.id).limit(MAX_ROWS))
    if forced_only:
        query = query.where(Case.close_kind == "forced")
    rows = db.execute(query).all()
    ids = [c.id for c, _ in rows]
    path: dict[int, list[int]] = {}
    if ids:
        for case_id, unit_id in db.execute(select(CaseAssignment.case_id, CaseAssignment.unit_id)
                                           .where(CaseAssignment.case_id.in_(ids)).order_by(CaseAssignment.id)):
            path.setdefault(case_id, []).append(unit_id)
    units = _units(db, {c.street_id for c, _ in rows} | {c.community_id for c, _ in rows}
                   | {u for p in path.values() for u in p})
    out = [_case_row(case, units) | {
        "transfers": n, "path": " → ".join(_name(units, u) or "?" for u in path.get(case.id, [])),
        "returns": case.return_count, "status": CaseStatus(case.status).label,
        "forced": "是" if case.close_kind == "forced" else "否", "closed_at": case.closed_at}
        for case, n in rows]
    columns = (*_base_case_columns(), Column("transfers", "流转次数"), Column("path", "流转经过"),
               Column("returns", "退回次数"), Column("status", "当前状态"), Column("forced", "强制结案"),
               Column("closed_at", "结案时间", "yyyy-mm-dd hh:mm"))
    return Ledger("multi_transfer_forced" if forced_only else "multi_transfer",
                  "多次流转强制结案台账" if forced_only else "多次流转台账", columns, out)


def stalled(db: Session, *, settings: Settings, principal: Principal, days: int = 30) -> Ledger:
    """长期滞留台账: open cases that have not moved (no event) for `days` days or more."""
    if days < 1:
        raise InvalidInput("滞留天数至少为 1", errors=[{"field": "days", "message": "过小"}])
    now = clock.utcnow()
    moved = (select(CaseEvent.case_id, func.max(CaseEvent.occurred_at).label("last"))
             .join(Case, Case.id == CaseEvent.case_id).where(Case.status.in_(OPEN_STATES))
             .group_by(CaseEvent.case_id).subquery())
    rows = db.execute(select(Case, moved.c.last).join(moved, moved.c.case_id == Case.id)
                      .where(queries.visible(principal), moved.c.last < now - timedelta(days=days))
                      .order_by(moved.c.last, Case.id).limit(MAX_ROWS)).all()
    units = _units(db, {c.street_id for c, _ in rows} | {c.community_id for c, _ in rows}
                   | {c.holder_unit_id for c, _ in rows})
    out = [_case_row(case, units) | {
        "status": CaseStatus(case.status).label, "holder": _name(units, case.holder_unit_id), "last_moved": last,
        "stalled_days": _days(last, now), "age_days": _days(case.reported_at, now),
        "supervised": "是" if case.supervised else "否"} for case, last in rows]
    columns = (*_base_case_columns(), Column("status", "当前状态"), Column("holder", "当前办理单位"),
               Column("last_moved", "最后流转时间", "yyyy-mm-dd hh:mm"), Column("stalled_days", "滞留天数", "0.0"),
               Column("age_days", "案龄（天）", "0.0"), Column("supervised", "挂账督办"))
    return Ledger("stalled", "长期滞留案件台账", columns, out)


def supervised(db: Session, *, settings: Settings, principal: Principal, state: str = "all") -> Ledger:
    """挂账督办台账: every supervision (挂账) with its clearing (销账), if any, and how long it ran.
    state: open (督办中), cleared (已销账) or all. A case closed while supervised shows as
    结案未销账 (clearing needs an open case)."""
    if state not in ("open", "cleared", "all"):
        raise InvalidInput("state 须为 open、cleared 或 all", errors=[{"field": "state", "message": "无效"}])
    now = clock.utcnow()
    supervised_ids = select(CaseEvent.case_id).where(CaseEvent.transition == "supervise")
    rows = db.execute(select(Case, CaseEvent).join(CaseEvent, CaseEvent.case_id == Case.id)
                      .where(queries.visible(principal), Case.id.in_(supervised_ids),
                             CaseEvent.transition.in_(("supervise", "clear_supervision")))
                      .order_by(Case.id, CaseEvent.occurred_at, CaseEvent.id)).all()
    entries: list[tuple[Case, CaseEvent, CaseEvent | None]] = []
    for case, event in rows:
        if event.transition == "supervise":
            entries.append((case, event, None))
        elif entries and entries[-1][0].id == case.id and entries[-1][2] is None:
            entries[-1] = (entries[-1][0], entries[-1][1], event)
    units = _units(db, {c.street_id for c, _, _ in entries} | {c.community_id for c, _, _ in entries}
                   | {c.holder_unit_id for c, _, _ in entries})
    out = []
    for case, put, cleared in entries:
        if cleared is not None:
            label = "已销账"
        elif case.status == CaseStatus.CLOSED:
            label = "结案未销账"
        else:
            label = "督办中"
        if (state == "open" and cleared is not None) or (state == "cleared" and cleared is None):
            continue
        end = cleared.occurred_at if cleared else (case.closed_at or now)
        out.append(_case_row(case, units) | {
            "supervised_at": put.occurred_at, "reason": put.reason, "by": put.actor_name,
            "cleared_at": cleared.occurred_at if cleared else None, "clear_reason": cleared.reason if cleared else None,
            "days": _days(put.occurred_at, end), "state": label, "status": CaseStatus(case.status).label,
            "holder": _name(units, case.holder_unit_id)})
    columns = (*_base_case_columns(), Column("supervised_at", "挂账时间", "yyyy-mm-dd hh:mm"),
               Column("reason", "挂账理由"), Column("by", "挂账人"),
               Column("cleared_at", "销账时间", "yyyy-mm-dd hh:mm"), Column("clear_reason", "销账理由"),
               Column("days", "督办天数", "0.0"), Column("state", "督办状态"), Column("status", "案件状态"),
               Column("holder", "当前办理单位"))
    return Ledger("supervised", "挂账督办台账", columns, out[:MAX_ROWS])


LEDGERS: dict[str, Callable[..., Ledger]] = {
    "forced": forced_closures, "multi_transfer": multi_transfer, "stalled": stalled, "supervised": supervised,
}


def _cell(value, settings: Settings):
    if isinstance(value, datetime):
        return value.astimezone(settings.tz).replace(tzinfo=None)
    return value


def workbook(ledger: Ledger, *, settings: Settings) -> bytes:
    headers = [c.title for c in ledger.columns]
    formats = {c.title: c.number_format for c in ledger.columns if c.number_format}
    rows = [[_cell(row.get(c.key), settings) for c in ledger.columns] for row in ledger.rows]
    return write_workbook([SheetSpec(ledger.title, headers, rows, formats)])
