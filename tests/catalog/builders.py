"""Catalogs for database tests: the demo one (on the demo organisation) and a small one."""

import copy
from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.catalog import excel, service
from gridgov.catalog.demo import load_demo_catalog
from gridgov.catalog.service import CatalogInput, SourceRow
from gridgov.db import Database
from gridgov.demo.loader import load_demo_organisation
from gridgov.org import service as org
from gridgov.org.rules import UnitKind
from gridgov.org.schemas import UnitIn
from tests.helpers import small_org

from .demo_data import demo_catalog

DONGHUAMEN, JIAODAOKOU, QIANMEN = "110101001", "110101003", "110101011"
MINI_TYPES = ("C010101", "C010102", "E010201")


def load_demo(database: Database) -> tuple[int, int]:
    with database.write() as db:
        load_demo_organisation(db)
    with database.write() as db:
        return load_demo_catalog(db, actor=SYSTEM_ACTOR)


def _unit(database: Database, code: str, kind: UnitKind, parent: str,
          serves: str | None = None) -> None:
    with database.write() as db:
        org.create_unit(db, actor=SYSTEM_ACTOR, data=UnitIn(
            code=code, name=f"单位{code}", kind=kind, parent_code=parent,
            serves_street_code=serves, valid_from=date(2020, 1, 1)))


def mini_input(types: dict[str, dict[str, Any]] | None = None) -> CatalogInput:
    """Three demo types, their classes, and rules for the small org: C010101 → D1's field unit
    in the street, C010102 → D1 (W1 for components W1 owns), E010201 → no rule (属地兜底)."""
    wanted = types or {row["code"]: row for row in demo_catalog()["types"]
                       if row["code"] in MINI_TYPES}
    classes = []
    for major in demo_catalog()["classes"]:
        minors = [m for m in major["minor_classes"]
                  if any(t["domain"] == major["domain"] and t["category"] == major["category"]
                         and t["minor_class"] == m["code"] for t in wanted.values())]
        if not minors:
            continue
        base = {"domain": major["domain"], "category": major["category"]}
        classes.append({**base, "code": major["code"], "name": major["name"],
                        "source": major["source"]})
        classes += [{**base, "code": m["code"], "name": m["name"], "source": m["source"]}
                    for m in minors]
    rules = [
        {"id": "R0001", "type_code": "C010101", "unit_code": "D1", "per_street_field_unit": True},
        {"id": "R0002", "type_code": "C010102", "unit_code": "D1"},
        {"id": "R0003", "type_code": "C010102", "owner_code": "W1", "unit_code": "W1",
         "note": "权属单位自行维护"},
    ]
    return CatalogInput(
        classes=[SourceRow("classes", n, row) for n, row in enumerate(classes, start=1)],
        types=[SourceRow("types", n, copy.deepcopy(row))
               for n, row in enumerate(wanted.values(), start=1)],
        rules=[SourceRow("rules", n, row) for n, row in enumerate(rules, start=1)],
    )


def mini_catalog(database: Database) -> None:
    """small_org (DC, S1, S2, D1 …) plus D1's field unit serving S1 and a utility W1."""
    small_org(database)
    _unit(database, "D1-S1", UnitKind.FIELD_UNIT, "D1", serves="S1")
    _unit(database, "W1", UnitKind.OUTSIDE_BODY, "DC")
    with database.write() as db:
        service.import_catalog(db, actor=SYSTEM_ACTOR, data=mini_input())


def export_bytes(database: Database) -> bytes:
    with database.read() as db:
        return excel.export_catalog(service.snapshot(db))


def sheet_values(content: bytes) -> dict[str, list[tuple]]:
    """Every sheet as rows of values, header included."""
    workbook = load_workbook(BytesIO(content), read_only=True)
    try:
        return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)]
                for sheet in workbook.worksheets}
    finally:
        workbook.close()
