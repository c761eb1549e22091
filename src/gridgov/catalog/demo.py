"""Loads the packaged demo catalog and duty matrix (`gridgov/data/*_demo.json`) into the database.

The demo organisation (units D001…, W001…, streets 110101001…) must be loaded first: duty
rules are checked against the real units. Loading twice writes nothing the second time.
"""

import json
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.audit.rules import Actor
from gridgov.catalog import service
from gridgov.catalog.models import MatterType
from gridgov.catalog.service import CatalogInput, SourceRow
from gridgov.demo.loader import DEMO_IN_FORCE_SINCE
from gridgov.errors import Conflict
from gridgov.org.models import Unit

CATALOG_FILE = "catalog_demo.json"
DUTY_MATRIX_FILE = "duty_matrix_demo.json"
_REQUIRED_UNIT = "D001"


def _document(name: str) -> dict[str, Any]:
    return json.loads(resources.files("gridgov").joinpath("data", name).read_text("utf-8"))


def demo_catalog_input() -> CatalogInput:
    """The demo catalog and duty matrix as one import (rows numbered from 1 in each list)."""
    catalog, matrix = _document(CATALOG_FILE), _document(DUTY_MATRIX_FILE)
    classes = []
    for major in catalog["classes"]:
        base = {"domain": major["domain"], "category": major["category"]}
        classes.append({**base, "code": major["code"], "name": major["name"],
                        "major_code": None, "source": major.get("source", "")})
        classes += [{**base, "code": minor["code"], "name": minor["name"],
                     "major_code": major["code"], "source": minor.get("source", "")}
                    for minor in major.get("minor_classes", [])]

    def rows(source: str, items: list[dict[str, Any]]) -> list[SourceRow]:
        return [SourceRow(source, number, item) for number, item in enumerate(items, start=1)]

    return CatalogInput(
        classes=rows(f"{CATALOG_FILE} classes", classes),
        areas=rows(f"{DUTY_MATRIX_FILE} areas", matrix["areas"]),
        types=rows(f"{CATALOG_FILE} types", catalog["types"]),
        rules=rows(f"{DUTY_MATRIX_FILE} rules", matrix["rules"]),
    )


def demo_catalog_loaded(db: Session) -> bool:
    return db.scalar(select(MatterType.id).limit(1)) is not None


def load_demo_catalog(db: Session, *, actor: Actor) -> tuple[int, int]:
    """Import the demo catalog and duty matrix (one audited, all-or-nothing transaction).

    Returns (types, rules) created by this call: (331, 369) the first time, (0, 0) after.
    Conflict when the demo organisation is not loaded."""
    if db.scalar(select(Unit.id).where(Unit.code == _REQUIRED_UNIT)) is None:
        raise Conflict("请先载入演示组织机构（gridgov demo load）：职责清单要对照真实单位校验")
    report = service.import_catalog(db, actor=actor, data=demo_catalog_input(),
                                    effective_from=DEMO_IN_FORCE_SINCE)
    return report.types_created, report.rules_created
