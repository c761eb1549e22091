"""Loads the 45 demo whistle situations (`gridgov/data/whistle_situations_demo.json`).

They are demo configuration, not Dongcheng's official list: modelled on public reports of the
four areas (综合执法, 重点工作, 应急处置, 兜底责任), each marked `demo`, with the departments
usually summoned referring to the demo organisation (D001…D032, W001…W010), which must be
loaded first. Loading twice writes nothing the second time.
"""

import json
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.audit.rules import Actor
from gridgov.errors import Conflict
from gridgov.org.models import Unit
from gridgov.whistle import situations
from gridgov.whistle.situations import SituationInput, SourceRow

SITUATIONS_FILE = "whistle_situations_demo.json"
_REQUIRED_UNIT = "D001"


def demo_document() -> dict[str, Any]:
    return json.loads(resources.files("gridgov").joinpath("data", SITUATIONS_FILE).read_text("utf-8"))


def demo_situations_input() -> SituationInput:
    rows = demo_document()["situations"]
    return SituationInput(rows=[SourceRow(SITUATIONS_FILE, number, dict(row))
                                for number, row in enumerate(rows, start=1)])


def load_demo_situations(db: Session, *, actor: Actor) -> int:
    """Import the demo situations (one audited, all-or-nothing transaction); returns how many
    were created: 45 the first time, 0 after. Conflict when the demo organisation is missing."""
    if db.scalar(select(Unit.id).where(Unit.code == _REQUIRED_UNIT)) is None:
        raise Conflict("请先载入演示组织机构（gridgov demo load）：吹哨情形的应哨部门要对照真实单位校验")
    return situations.import_situations(db, actor=actor, data=demo_situations_input()).created
