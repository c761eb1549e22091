"""Organisation units: create, change, import (all-or-nothing) and read the tree."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, ScalarSelect, String, literal, select
from sqlalchemy.orm import Session, aliased

from gridgov.audit import service as audit
from gridgov.audit.rules import Actor
from gridgov.auth.policy import UnitRef
from gridgov.errors import InvalidInput, NotFound
from gridgov.org.models import Unit
from gridgov.org.rules import (
    UnitKind, child_path, code_problem, parent_problem, validity_problem,
)
from gridgov.org.schemas import UnitIn, UnitOut, UnitPatch


def unit_snapshot(unit: Unit) -> dict:
    return {
        "code": unit.code, "name": unit.name, "short_name": unit.short_name,
        "kind": unit.kind, "parent_id": unit.parent_id, "serves_street_id": unit.serves_street_id,
        "valid_from": unit.valid_from, "valid_to": unit.valid_to,
    }


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(
        id=unit.id, code=unit.code, name=unit.name, short_name=unit.short_name,
        kind=unit.kind, kind_label=UnitKind(unit.kind).label, parent_id=unit.parent_id,
        parent_code=unit.parent.code if unit.parent else None,
        serves_street_code=unit.serves_street.code if unit.serves_street else None,
        valid_from=unit.valid_from, valid_to=unit.valid_to,
    )


def get_unit(db: Session, *, code: str) -> Unit:
    unit = db.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"单位编码 {code} 不存在")
    return unit


def list_units(
    db: Session, *, kind: UnitKind | None = None, parent_code: str | None = None,
    active_on: date | None = None,
) -> Sequence[Unit]:
    query = select(Unit).order_by(Unit.code)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    if parent_code is not None:
        query = query.where(Unit.parent_id == get_unit(db, code=parent_code).id)
    if active_on is not None:
        query = query.where(Unit.valid_from <= active_on).where(
            (Unit.valid_to.is_(None)) | (Unit.valid_to >= active_on)
        )
    return db.scalars(query).all()


def unit_ref(db: Session, *, unit_id: int, kind: str, path: str) -> UnitRef:
    """The unit as the access policy sees it, with the street and community it belongs to."""
    street_id, community_id = db.execute(select(
        ancestor_id(path, UnitKind.STREET), ancestor_id(path, UnitKind.COMMUNITY))).one()
    return UnitRef(id=unit_id, kind=UnitKind(kind), path=path, street_id=street_id, community_id=community_id)


def ancestor_id(path: ColumnElement[str] | str, kind: UnitKind) -> ScalarSelect:
    """The id of the unit of `kind` on a materialised path, the unit itself included: the unit
    whose own path begins it. `path` is a value or a column (then correlated to its row)."""
    ancestor = aliased(Unit)
    path = literal(path, String) if isinstance(path, str) else path
    return select(ancestor.id).where(ancestor.kind == kind, path.startswith(ancestor.path)).limit(1).scalar_subquery()


@dataclass(frozen=True)
class _Row:
    """A unit to write, with where it came from (a row number of a sheet, or 1 for the API)."""

    line: int
    data: UnitIn


def create_unit(db: Session, *, actor: Actor, data: UnitIn) -> Unit:
    created, _ = _write_units(db, actor=actor, rows=[_Row(1, data)], allow_update=False,
                              parse_problems=())
    db.commit()
    return created[0]


def update_unit(db: Session, *, actor: Actor, code: str, patch: UnitPatch) -> Unit:
    unit = get_unit(db, code=code)
    before = unit_snapshot(unit)
    changes = patch.model_dump(exclude_unset=True)
    problem = validity_problem(unit.valid_from, changes.get("valid_to", unit.valid_to))
    if problem:
        raise InvalidInput(problem, errors=[{"field": "valid_to", "message": problem}])
    for name, value in changes.items():
        setattr(unit, name, value)
    audit.record(db, actor=actor, action="unit.update", object_type="unit", object_id=unit.code,
                 before=before, after=unit_snapshot(unit))
    db.commit()
    return unit


def import_units(
    db: Session, *, actor: Actor, rows: Sequence[tuple[int, UnitIn]],
    parse_problems: Sequence[dict] = (),
) -> tuple[int, int]:
    """Create or update every row, or none: any bad row (including rows that could not even be
    parsed, given as `parse_problems`) refuses the whole import with every problem listed."""
    created, updated = _write_units(
        db, actor=actor, rows=[_Row(line, data) for line, data in rows], allow_update=True,
        parse_problems=parse_problems,
    )
    audit.record(db, actor=actor, action="unit.import", object_type="unit",
                 after={"created": len(created), "updated": len(updated)})
    db.commit()
    return len(created), len(updated)


def _write_units(
    db: Session, *, actor: Actor, rows: Sequence[_Row], allow_update: bool,
    parse_problems: Sequence[dict],
) -> tuple[list[Unit], list[Unit]]:
    existing = {unit.code: unit for unit in db.scalars(select(Unit))}
    incoming = {row.data.code: row for row in rows}
    problems = sorted([*parse_problems, *_problems(rows, existing, incoming, allow_update)],
                      key=lambda p: p["row"])
    if problems:
        raise InvalidInput(f"{len(problems)} 处错误，未写入任何数据", errors=problems)
    created: list[Unit] = []
    updated: list[Unit] = []
    for row in _parents_first(rows, existing):
        data = row.data
        parent = existing[data.parent_code] if data.parent_code else None
        unit = existing.get(data.code)
        before = unit_snapshot(unit) if unit else None
        if unit is None:
            unit = Unit(code=data.code)
            db.add(unit)
            created.append(unit)
        else:
            updated.append(unit)
        unit.name, unit.short_name, unit.kind = data.name, data.short_name, data.kind
        unit.parent = parent
        unit.parent_id = parent.id if parent else None
        unit.serves_street = existing[data.serves_street_code] if data.serves_street_code else None
        unit.valid_from, unit.valid_to = data.valid_from, data.valid_to
        db.flush()
        unit.path = child_path(parent.path if parent else None, unit.id)
        existing[unit.code] = unit
        audit.record(db, actor=actor, action="unit.create" if before is None else "unit.update",
                     object_type="unit", object_id=unit.code, before=before,
                     after=unit_snapshot(unit))
    return created, updated


def _problems(
    rows: Sequence[_Row], existing: dict[str, Unit], incoming: dict[str, _Row], allow_update: bool
) -> list[dict]:
    problems: list[dict] = []
    seen: set[str] = set()

    def add(row: _Row, field: str, message: str) -> None:
        problems.append({"row": row.line, "code": row.data.code, "field": field, "message": message})

    for row in rows:
        data = row.data
        if problem := code_problem(data.code):
            add(row, "code", problem)
        if data.code in seen:
            add(row, "code", f"编码 {data.code} 在导入数据中重复")
        seen.add(data.code)
        if data.code in existing and not allow_update:
            add(row, "code", f"编码 {data.code} 已存在")
        if problem := validity_problem(data.valid_from, data.valid_to):
            add(row, "valid_to", problem)
        parent_kind = _kind_of(data.parent_code, existing, incoming)
        if data.parent_code and parent_kind is None:
            add(row, "parent_code", f"上级单位编码 {data.parent_code} 不存在")
        elif data.parent_code == data.code:
            add(row, "parent_code", "单位不能是自己的上级")
        elif problem := parent_problem(data.kind, parent_kind):
            add(row, "parent_code", problem)
        if data.serves_street_code is not None and _kind_of(
            data.serves_street_code, existing, incoming
        ) is not UnitKind.STREET:
            add(row, "serves_street_code", f"服务街道 {data.serves_street_code} 不是已有的街道")
        if data.code in existing:
            unit = existing[data.code]
            if unit.kind != data.kind:
                add(row, "kind", "已有单位的类型不能更改；请停用旧单位并新建")
            if (unit.parent.code if unit.parent else None) != data.parent_code:
                add(row, "parent_code", "已有单位的上级不能更改；请停用旧单位并新建")
    if not problems:
        problems.extend(_cycle_problems(rows, existing, incoming))
    return problems


def _kind_of(code: str | None, existing: dict[str, Unit], incoming: dict[str, _Row]) -> UnitKind | None:
    if code is None:
        return None
    if code in incoming:
        return incoming[code].data.kind
    if code in existing:
        return UnitKind(existing[code].kind)
    return None


def _cycle_problems(rows: Sequence[_Row], existing: dict[str, Unit], incoming: dict[str, _Row]) -> list[dict]:
    def parent_of(code: str) -> str | None:
        if code in incoming:
            return incoming[code].data.parent_code
        unit = existing.get(code)
        return unit.parent.code if unit and unit.parent else None

    problems = []
    for row in rows:
        seen, code = {row.data.code}, parent_of(row.data.code)
        while code is not None:
            if code in seen:
                problems.append({"row": row.line, "code": row.data.code, "field": "parent_code",
                                 "message": "上级关系构成循环"})
                break
            seen.add(code)
            code = parent_of(code)
    return problems


def _parents_first(rows: Sequence[_Row], existing: dict[str, Unit]) -> list[_Row]:
    """Order rows so that every parent is written before its children."""
    pending = {row.data.code: row for row in rows}
    ordered: list[_Row] = []
    placed = set(existing) - set(pending)
    while pending:
        ready = [row for code, row in pending.items()
                 if row.data.parent_code is None or row.data.parent_code in placed]
        assert ready, "a parent cycle passed validation"
        for row in sorted(ready, key=lambda r: r.line):
            ordered.append(row)
            placed.add(row.data.code)
            del pending[row.data.code]
    return ordered
