"""Grid storage: versioned, audited, all-or-nothing imports; locating through the cached index."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import shapely
from sqlalchemy import func, select, text

from gridgov.audit import service as audit
from gridgov.audit.models import AuditEvent
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.errors import InvalidInput, NotFound
from gridgov.grid import service
from gridgov.grid.crs import CRS, from_gcj02
from gridgov.grid.models import GridCellRecord, GridVersion
from gridgov.grid.rules import GridLevel, OutsideManagedArea
from tests.grid import small_grid
from tests.grid.small_grid import collection, feature, load_small_grid, rect


def _import(database, level, fc, **kwargs):
    with database.write() as db:
        return service.import_level(db, actor=SYSTEM_ACTOR, level=level, collection=fc, **kwargs)


def _units_merged_in_basic_01(extra_code: str | None = None) -> dict:
    """Street 1's basic grid 01 as one unit grid 001 (002 gone, or replaced by `extra_code`)."""
    features = [f for f in small_grid.unit_features()
                if f["id"] not in ("110101001001001", "110101001001002")]
    if extra_code is None:
        features.append(feature("110101001001001", "单元1-1（合并）", "110101001001",
                                rect(116.400, 39.900, 116.405, 39.910), basic="11010100100101"))
    else:
        features.append(feature("110101001001001", "单元1-1", "110101001001",
                                rect(116.400, 39.905, 116.405, 39.910), basic="11010100100101"))
        features.append(feature(extra_code, "单元1-新", "110101001001",
                                rect(116.400, 39.900, 116.405, 39.905), basic="11010100100101"))
    return collection(features)


def test_levels_import_top_down_as_audited_versions(database):
    results = load_small_grid(database)
    assert [r.version for r in results] == [1, 2, 3, 4]
    assert [r.added for r in results] == [2, 2, 4, 8]
    with database.read() as db:
        stats = service.stats(db)
        assert stats.grid_version == 4
        assert [s.count for s in stats.levels] == [2, 2, 4, 8]
        areas = [s.area_m2 for s in stats.levels]
        assert max(areas) - min(areas) < 1.0  # every level tiles the same area
        assert 1.8e6 < areas[0] < 2.0e6  # 0.02° × 0.01° at 39.9° N
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "grid.import")
                            .order_by(AuditEvent.seq)).all()
        assert [e.after["version"] for e in events] == [1, 2, 3, 4]
        assert events[-1].after["added"] == 8 and events[-1].after["level"] == "unit"
        assert audit.verify(db).intact


def test_a_bad_file_is_refused_whole_with_every_problem_and_nothing_written(database):
    load_small_grid(database)
    features = small_grid.unit_features()
    features[1]["properties"]["code"] = "11010100100100X"  # malformed
    features[2]["geometry"]["coordinates"] = rect(116.4025, 39.905, 116.410, 39.910)  # overlaps
    features[5]["properties"]["basic_code"] = "11010100200199"  # unknown basic grid
    with pytest.raises(InvalidInput) as refused:
        _import(database, GridLevel.UNIT, collection(features))
    errors = refused.value.errors
    assert "未写入任何数据" in refused.value.detail
    by_kind = {e["kind"] for e in errors}
    assert {"code_malformed", "overlap", "unknown_parent"} <= by_kind
    assert {e["feature_id"] for e in errors} >= {"110101001001002", "110101001001003",
                                                 "110101002001002"}
    assert all(e["message"].startswith("第 ") for e in errors if e["index"] is not None)
    with database.read() as db:
        assert service.current_version(db) == 4
        assert db.scalar(select(func.count()).select_from(GridCellRecord)) == 16
        assert db.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "grid.import")) == 4


def test_a_level_needs_the_level_above(database):
    with pytest.raises(InvalidInput, match="尚无街道"):
        _import(database, GridLevel.COMMUNITY, small_grid.communities())


def test_a_file_without_a_coordinate_system_is_refused_unless_the_flag_names_one(database):
    with pytest.raises(InvalidInput) as refused:
        _import(database, GridLevel.STREET, collection(small_grid.streets()["features"], crs=None))
    assert refused.value.errors[0]["kind"] == "crs_missing"
    result = _import(database, GridLevel.STREET,
                     collection(small_grid.streets()["features"], crs=None), crs=CRS.GCJ02)
    assert result.cells == 2 and result.source_crs is CRS.GCJ02


def test_reimport_retires_missing_cells_and_never_reuses_a_retired_code(database):
    load_small_grid(database)
    result = _import(database, GridLevel.UNIT, _units_merged_in_basic_01())
    assert (result.version, result.added, result.changed, result.unchanged, result.retired) == (
        5, 0, 1, 6, 1)
    assert result.retired_codes == ("110101001001002",)
    with database.read() as db:
        retired = service.get_cell(db, code="110101001001002")
        assert retired.version_to == 5 and retired.valid_to is not None
        assert service.locate(db, lng=116.402, lat=39.902).unit_code == "110101001001001"

    with pytest.raises(InvalidInput) as refused:
        _import(database, GridLevel.UNIT, _units_merged_in_basic_01("110101001001002"))
    assert [(e["kind"], e["feature_id"]) for e in refused.value.errors] == [
        ("code_taken", "110101001001002")]
    result = _import(database, GridLevel.UNIT, _units_merged_in_basic_01("110101001001005"))
    assert (result.version, result.added, result.changed) == (6, 1, 1)


def test_a_case_filed_in_an_old_version_still_finds_its_cell(database):
    load_small_grid(database)
    with database.read() as db:
        filed = service.locate(db, lng=116.402, lat=39.902)  # what a case stores
    assert (filed.unit_code, filed.grid_version) == ("110101001001002", 4)
    _import(database, GridLevel.UNIT, _units_merged_in_basic_01())
    with database.read() as db:
        then = service.get_cell(db, code=filed.unit_code, version=filed.grid_version)
        assert then.name == "单元1-2" and then.version_to == 5
        assert service.cell_polygon(then).contains(shapely.Point(filed.lng, filed.lat))
        # The surviving neighbour changed shape: each version answers with its own polygon.
        old = service.get_cell(db, code="110101001001001", version=4)
        new = service.get_cell(db, code="110101001001001", version=5)
        assert new.area_m2 == pytest.approx(2 * old.area_m2, rel=1e-3)
        assert service.get_cell(db, code="110101001001001").id == new.id
        assert len(service.cell_history(db, code="110101001001001")) == 2
        with pytest.raises(NotFound):
            service.get_cell(db, code="110101001001002", version=5)


def test_an_unchanged_reimport_is_a_version_that_changes_no_cell(database):
    load_small_grid(database)
    result = _import(database, GridLevel.UNIT, small_grid.units())
    assert (result.version, result.added, result.changed, result.unchanged, result.retired) == (
        5, 0, 0, 8, 0)
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(GridCellRecord)) == 16


def test_cells_whose_parent_was_replaced_are_reported_as_orphans(database):
    load_small_grid(database)
    features = small_grid.basics()["features"]
    features[0]["properties"]["code"] = features[0]["id"] = "11010100100103"
    result = _import(database, GridLevel.BASIC, collection(features))
    assert result.retired_codes == ("11010100100101",)
    assert result.orphaned_codes == ("110101001001001", "110101001001002")


def test_effective_instants_are_aware_not_in_the_future_and_never_go_back(database):
    streets = small_grid.streets()
    with pytest.raises(InvalidInput, match="时区"):
        _import(database, GridLevel.STREET, streets, effective_at=datetime(2026, 1, 1))
    with pytest.raises(InvalidInput, match="不能晚于当前时间"):
        _import(database, GridLevel.STREET, streets,
                effective_at=datetime.now(UTC) + timedelta(days=1))
    first = datetime(2026, 1, 1, tzinfo=UTC)
    assert _import(database, GridLevel.STREET, streets, effective_at=first).effective_at == first
    with pytest.raises(InvalidInput, match="不能早于"):
        _import(database, GridLevel.STREET, streets, effective_at=first - timedelta(days=1))
    with database.read() as db:
        assert db.scalar(select(GridVersion.effective_at)) == first


def test_locate_converts_the_position_and_refuses_places_outside(database):
    load_small_grid(database)
    wgs_lng, wgs_lat = from_gcj02(116.4175, 39.9025, CRS.WGS84)
    with database.read() as db:
        found = service.locate(db, lng=wgs_lng, lat=wgs_lat, crs=CRS.WGS84)
        assert (found.unit_code, found.basic_code, found.community_code, found.street_code) == (
            "110101002001004", "11010100200102", "110101002001", "110101002")
        assert found.lng == pytest.approx(116.4175, abs=1e-7)
        assert found.lat == pytest.approx(39.9025, abs=1e-7)
        with pytest.raises(OutsideManagedArea) as outside:
            service.locate(db, lng=116.43, lat=39.905)
        assert outside.value.status == 422 and "不在管辖范围内" in outside.value.detail


def test_locate_many_marks_points_outside_without_failing(database):
    load_small_grid(database)
    with database.read() as db:
        batch = service.locate_many(db, lngs=[116.401, 116.43, 116.419],
                                    lats=[39.909, 39.9, 39.901])
    assert batch.inside.tolist() == [True, False, True]
    assert batch.unit_codes.tolist() == ["110101001001001", "", "110101002001004"]
    assert batch.grid_version == 4
    assert batch.location(1) is None and batch.location(2).street_code == "110101002"


def test_locate_code_puts_a_case_on_the_cells_representative_point(database):
    load_small_grid(database)
    _import(database, GridLevel.UNIT, _units_merged_in_basic_01())
    with database.read() as db:
        found = service.locate_code(db, unit_grid_code="110101002001003")
        assert found.basic_code == "11010100200102" and found.grid_version == 5
        cell = service.cell_polygon(service.get_cell(db, code="110101002001003"))
        assert cell.contains(shapely.Point(found.lng, found.lat))
        with pytest.raises(InvalidInput, match="已于版本 5 注销"):
            service.locate_code(db, unit_grid_code="110101001001002")
        with pytest.raises(NotFound):
            service.locate_code(db, unit_grid_code="110101001001009")
        with pytest.raises(InvalidInput):
            service.locate_code(db, unit_grid_code="1101010010010")


def test_locating_without_a_grid_is_a_conflict(database):
    with database.read() as db, pytest.raises(service.GridNotLoaded):
        service.locate(db, lng=116.4, lat=39.9)


def test_the_index_is_reused_until_the_revision_changes_in_any_process(database):
    load_small_grid(database)
    with database.read() as db:
        first = service.grid_snapshot(db)
        assert service.grid_snapshot(db) is first
    # Another process imported: only the shared revision row tells this one.
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE grid_revisions SET token = 'elsewhere' WHERE name = 'grid'"))
    with database.read() as db:
        rebuilt = service.grid_snapshot(db)
    assert rebuilt is not first and rebuilt.token == "elsewhere"


def test_concurrent_first_lookups_build_the_index_once(database, monkeypatch):
    load_small_grid(database)
    with database.write() as db:
        service.bump_revision(db, service.GRID_REVISION)  # invalidate the seeded index
        db.commit()
    builds = []
    real_load = service._load_snapshot

    def counting_load(db):
        builds.append(1)
        return real_load(db)

    monkeypatch.setattr(service, "_load_snapshot", counting_load)
    found, errors = [], []

    def worker():
        try:
            with database.read() as db:
                found.append(service.locate(db, lng=116.412, lat=39.908).unit_code)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and found == ["110101002001001"] * 8
    assert len(builds) == 1


def test_cells_of_a_level_can_be_listed_within_any_enclosing_cell(database):
    load_small_grid(database)
    with database.read() as db:
        assert len(service.list_cells(db, level=GridLevel.UNIT)) == 8
        assert len(service.list_cells(db, level=GridLevel.UNIT, parent_code="110101002")) == 4
        assert [c.code for c in service.list_cells(
            db, level=GridLevel.UNIT, parent_code="11010100200102")] == [
            "110101002001003", "110101002001004"]
        with pytest.raises(InvalidInput):
            service.list_cells(db, level=GridLevel.STREET, parent_code="110101001")
