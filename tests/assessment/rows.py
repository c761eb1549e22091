"""Direct row builders for formula tests: cases, assignments, clocks, events, reporters and
callbacks inserted as they would be left by the case services, at chosen instants."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.cases.models import Case, CaseAssignment, CaseClock, CaseEvent, CaseReporter
from gridgov.feedback.models import CaseCallback
from gridgov.org.models import Unit

GRID = "110101001001001"  # a unit grid of 多福巷社区, 东华门街道


def at(month: int, day: int, hour: int = 2, minute: int = 0, year: int = 2026) -> datetime:
    """An instant in UTC (02:00 UTC is 10:00 in Beijing)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class Rows:
    def __init__(self, db: Session):
        self.db = db
        self.units = dict(db.execute(select(Unit.code, Unit.id)).all())
        self._n = 0

    def unit(self, code: str) -> int:
        return self.units[code]

    def case(self, *, responsible: str | None, status: str = "closed", closed_at: datetime | None = None,
             close_kind: str | None = None, channel: str = "hotline_12345", reported_at: datetime | None = None,
             type_code: str = "E010101", grid: str = GRID, return_count: int = 0, rework_count: int = 0,
             holder: str | None = None,
             supervised: bool = False, phone: str | None = "13800000000") -> Case:
        self._n += 1
        community = self.unit(grid[:12])
        street = self.unit(grid[:9])
        case = Case(number=f"T{self._n:07d}", tracking_code=f"TRK{self._n:07d}", channel_code=channel,
                    channel_ref=f"R-{self._n}", reported_at=reported_at or at(11, 1), description="测试案件",
                    lng=116.4, lat=39.9, unit_grid_code=grid, basic_grid_code=grid[:14], grid_version=1,
                    community_id=community, street_id=street, type_code=type_code, domain="urban",
                    grade="L2", urgent=False, handling_limit_value=Decimal(2), handling_limit_unit="working_days",
                    status=status, supervised=supervised,
                    holder_unit_id=self.unit(holder) if holder else None,
                    responsible_unit_id=self.unit(responsible) if responsible else None,
                    closed_at=closed_at, close_kind=close_kind if closed_at else None,
                    dispatch_count=1, return_count=return_count, rework_count=rework_count, reporters=[], clocks=[])
        self.db.add(case)
        self.db.flush()
        self.db.add(CaseReporter(case_id=case.id, original_case_id=case.id, channel_code=channel,
                                 channel_ref=case.channel_ref, name="张三", phone=phone, reported_at=case.reported_at))
        self.event(case, "report", case.reported_at, to_status="reported")
        self.db.flush()
        return case

    def reporter_id(self, case: Case) -> int:
        return self.db.scalar(select(CaseReporter.id).where(CaseReporter.case_id == case.id))

    def assign(self, case: Case, unit: str, when: datetime, *, depth: int = 1, ended_at: datetime | None = None,
               end_reason: str | None = None) -> None:
        self.db.add(CaseAssignment(case_id=case.id, unit_id=self.unit(unit), depth=depth, assigned_at=when,
                                   ended_at=ended_at, end_reason=end_reason))
        self.event(case, "dispatch" if depth == 1 else "redispatch", when, target=unit)

    def clock(self, case: Case, node: str, unit: str | None, started: datetime, deadline: datetime, *,
              finished: datetime | None = None, overdue: bool | None = None, extended: bool = False,
              paused: datetime | None = None) -> None:
        self.db.add(CaseClock(case_id=case.id, node=node, unit_id=self.unit(unit) if unit else None,
                              limit_value=Decimal(2), limit_unit="working_days", started_at=started,
                              deadline_at=deadline, finished_at=finished, overdue=overdue, paused_at=paused,
                              extended=extended))
        self.db.flush()

    def event(self, case: Case, transition: str, when: datetime, *, unit: str | None = None,
              target: str | None = None, reason: str | None = None, to_status: str = "received") -> None:
        self.db.add(CaseEvent(case_id=case.id, transition=transition, to_status=to_status, actor_name="tester",
                              unit_id=self.unit(unit) if unit else None,
                              target_unit_id=self.unit(target) if target else None, reason=reason, payload={},
                              occurred_at=when))

    def callback(self, case: Case, when: datetime, *, reached: bool = True, resolved: bool | None = True,
                 satisfaction: str | None = "satisfied") -> None:
        self.db.add(CaseCallback(case_id=case.id, reporter_id=self.reporter_id(case), sampled_as="hotline",
                                 called_at=when, recorded_at=when, caller_name="caller", reached=reached,
                                 resolved=resolved, satisfaction=satisfaction))
