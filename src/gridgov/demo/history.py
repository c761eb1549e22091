"""A demo history: some weeks of Dongcheng cases, made through the real services.

Every report and every step goes through `cases.intake` and `cases.service` with the clock set
to the moment it happens, so numbers, clocks, events and the audit chain are exactly what the
product would have written. All steps of all cases are replayed in time order. Cases of the
last days stop at every stage, so each workbench has work waiting; older ones run to their
end (closed, self-handled on the spot, rejected), some after a return and a re-dispatch.

Units that receive cases get a handling account named `demo-<unit code>` (password as the other
demo accounts) the first time they need one.
"""

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.auth.policy import Principal, Role
from gridgov.auth.schemas import UserIn
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.cases import intake, service
from gridgov.cases.models import Case
from gridgov.cases.schemas import ReportIn, TransitionIn
from gridgov.catalog.models import MatterTypeVersion
from gridgov.config import Settings
from gridgov.db import Database
from gridgov.demo.loader import DEMO_PASSWORD
from gridgov.demo.photos import demo_photo
from gridgov.errors import DomainError, IllegalTransition
from gridgov.grid.models import GridCellRecord
from gridgov.grid.rules import GridLevel
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind

log = logging.getLogger("gridgov.demo")

DEMO_REF_PREFIX = "DEMO-"
CHANNELS = (("hotline_12345", 50), ("supervisor_patrol", 20), ("snapshot", 10), ("wechat", 8),
            ("weibo", 4), ("housekeeper_patrol", 8))
DESCRIPTIONS = ("胡同口有人私搭乱建", "路边堆放建筑垃圾无人清理", "井盖破损存在安全隐患", "商户占道经营",
                "小区门口积水严重", "路灯不亮影响夜间通行", "共享单车乱停放堵塞人行道", "墙面张贴小广告",
                "绿地内有暴露垃圾", "施工噪音扰民")
REPORTERS = (("王先生", "13800001111"), ("李女士", "13900002222"), ("赵先生", "13700003333"),
             ("刘女士", "13600004444"), (None, None))
RECENT = timedelta(days=4)  # cases reported this recently may still be at any stage
HANDLER_ROLES = {UnitKind.STREET: Role.STREET, UnitKind.SUBCENTRE: Role.STREET}


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


@contextmanager
def _clock_at(instant: datetime) -> Iterator[None]:
    real = clock.utcnow
    clock.utcnow = lambda: instant
    try:
        yield
    finally:
        clock.utcnow = real


class _History:
    def __init__(self, database: Database, settings: Settings, rng: random.Random):
        self.database, self.settings, self.rng = database, settings, rng
        self.principals: dict[str, Principal] = {}
        self.case_ids: dict[int, int] = {}  # demo case index → case id
        self.skipped = 0

    def principal(self, db: Session, username: str) -> Principal:
        if username not in self.principals:
            user = db.scalar(select(User).where(User.username == username))
            self.principals[username] = auth.principal_for(db, user)
        return self.principals[username]

    def handler(self, db: Session, unit_code: str) -> str:
        """The account that works the cases of a unit (a street's cases: its sub-centre)."""
        unit = db.scalar(select(Unit).where(Unit.code == unit_code))
        if UnitKind(unit.kind) is UnitKind.STREET:
            unit = db.scalar(select(Unit).where(Unit.parent_id == unit.id, Unit.kind == UnitKind.SUBCENTRE))
        username = f"demo-{unit.code}"
        if db.scalar(select(User.id).where(User.username == username)) is None:
            auth.create_user(db, settings=self.settings, actor=SYSTEM_ACTOR, data=UserIn(
                username=username, display_name=f"{unit.short_name or unit.name}值班员", password=DEMO_PASSWORD,
                unit_code=unit.code, roles=[HANDLER_ROLES.get(UnitKind(unit.kind), Role.DEPARTMENT)]))
        return username

    def case(self, db: Session, index: int) -> Case:
        return service.get_case(db, case_id=self.case_ids[index])

    def move(self, index: int, username: str | None, name: str, **fields) -> None:
        """One transition of demo case `index` by `username` (None: whoever holds the case)."""
        with self.database.write() as db:
            case = self.case(db, index)
            if username is None:
                if case.holder_unit_id is None:
                    raise IllegalTransition(f"案件 {case.number} 没有办理单位")
                username = self.handler(db, db.get(Unit, case.holder_unit_id).code)
            service.transition(db, settings=self.settings, principal=self.principal(db, username),
                               case_id=case.id, name=name, data=TransitionIn(version=case.version, **fields))


def _plan(history: _History, index: int, reported_at: datetime, types: list[str],
          grids: list[str]) -> list[tuple[timedelta, Callable[[], None]]]:
    """The steps of one demo case, as offsets from its report; the last ones may lie in the future
    (they are dropped: the case waits there)."""
    rng = history.rng
    channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
    name, phone = rng.choice(REPORTERS)
    type_code, grid_code = rng.choice(types), rng.choice(grids)
    report = ReportIn(channel=channel, channel_ref=f"{DEMO_REF_PREFIX}{index:06d}", grid_code=grid_code,
                      description=rng.choice(DESCRIPTIONS), reporter_name=name, reporter_phone=phone,
                      reported_at=reported_at)

    def reported() -> None:
        with history.database.write() as db:
            actor = auth.actor_for(db.scalar(select(User).where(User.username == "intake")), Role.INTAKE)
            history.case_ids[index] = intake.report(db, settings=history.settings, actor=actor, data=report).case.id

    def self_handled() -> None:
        with history.database.write() as db:
            user = db.scalar(select(User).where(User.username == "supervisor"))
            case = service.handle_on_the_spot(
                db, settings=history.settings, principal=history.principal(db, "supervisor"),
                actor=auth.actor_for(user, Role.SUPERVISOR), before=demo_photo(1), after=demo_photo(2),
                result="已现场处置", data=report.model_copy(update={
                    "channel": "supervisor_patrol", "type_code": type_code, "reporter_name": None,
                    "reporter_phone": None}))
            history.case_ids[index] = case.id

    minutes = timedelta(minutes=1)
    roll = rng.random()
    if roll < 0.1:
        return [(0 * minutes, self_handled)]
    steps = [(0 * minutes, reported)]
    if roll < 0.16:
        return steps + [(rng.randint(5, 25) * minutes, lambda: history.move(
            index, "intake", "reject", reason="反映内容不属于城市管理范围，已告知来电人"))]
    steps.append((rng.randint(3, 20) * minutes, lambda: history.move(index, "intake", "file", type_code=type_code)))
    steps.append((rng.randint(21, 40) * minutes, lambda: history.move(index, "dispatcher", "dispatch", unit_code=_suggested(history, index))))
    at = 40
    if roll > 0.88:  # returned once, then sent to the district's 城管委 to coordinate
        at += rng.randint(30, 240)
        steps.append((at * minutes, lambda: history.move(index, None, "return_to_district",
                                                         reason="经核实不属于本单位职责，请重新派遣")))
        at += rng.randint(10, 60)
        steps.append((at * minutes, lambda: history.move(index, "dispatcher", "dispatch", unit_code="D001",
                                                         reason="职责交叉，由城管委统筹协调")))
    at += rng.randint(10, 90)
    steps.append((at * minutes, lambda: history.move(index, None, "receive")))
    at += rng.randint(120, 60 * 24 * 4)
    steps.append((at * minutes, lambda: history.move(index, None, "report_result", result="已按要求处置完毕")))
    at += rng.randint(30, 600)
    steps.append((at * minutes, lambda: history.move(index, "supervisor", "verify", note="现场核查，问题已解决")))
    at += rng.randint(10, 120)
    steps.append((at * minutes, lambda: history.move(index, "dispatcher", "close")))
    return steps


def _suggested(history: _History, index: int) -> str:
    with history.database.read() as db:
        return service.suggest_unit(db, case=history.case(db, index)).unit_code


def demo_history_loaded(db: Session) -> bool:
    return db.scalar(select(Case.id).where(Case.channel_ref.startswith(DEMO_REF_PREFIX)).limit(1)) is not None


def load_demo_history(database: Database, *, settings: Settings, days: int = 45, per_day: int = 8,
                      seed: int = 2004) -> tuple[int, int] | None:
    """Replay `days` of demo cases (about `per_day` a day) up to now; returns (cases, steps not
    taken because the service refused them — e.g. a deadline in a year without holidays yet),
    or None when the history is there already."""
    with database.read() as db:
        if demo_history_loaded(db):
            return None
        types = sorted(db.scalars(select(MatterTypeVersion.code).where(MatterTypeVersion.valid_to.is_(None))))
        grids = sorted(db.scalars(select(GridCellRecord.code).where(
            GridCellRecord.level == GridLevel.UNIT, GridCellRecord.version_to.is_(None))))
    rng = random.Random(seed)
    history = _History(database, settings, rng)
    now = clock.utcnow()
    start = now - timedelta(days=days)
    steps: list[_Step] = []
    count = days * per_day
    for index in range(count):
        reported_at = start + timedelta(seconds=rng.uniform(0, days * 86_400))
        plan = _plan(history, index, reported_at, types, grids)
        if now - reported_at < RECENT:  # the work waiting now: stop at any stage
            plan = plan[:rng.randint(1, len(plan))]
        for offset, run in plan:
            if reported_at + offset <= now:
                steps.append(_Step(reported_at + offset, len(steps), run))
    for step in sorted(steps):
        with _clock_at(step.at):
            try:
                step.run()
            except (DomainError, KeyError) as exc:
                history.skipped += 1  # the case stays where it is (its report may have been refused)
                log.debug("demo step at %s not taken: %r", step.at, exc)
    with database.read() as db:
        made = db.scalar(select(func.count()).select_from(Case).where(Case.channel_ref.startswith(DEMO_REF_PREFIX)))
    return made, history.skipped
