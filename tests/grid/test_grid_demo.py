"""The Dongcheng demo grid and components as loaded through the services (read-only)."""

import json
from collections import Counter

import numpy as np
import pytest
import shapely
from sqlalchemy import select

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.grid import components, demo, service
from gridgov.grid.crs import CRS, from_gcj02_array, geometry_to_local_metric, lnglat_to_local_metric
from gridgov.grid.generate import load_dongcheng_boundary
from gridgov.grid.models import Component, GridCellRecord
from gridgov.grid.rules import GridLevel
from gridgov.org.models import Unit

# One worker loads the demo per backend (with `--dist loadgroup`, as `make test` runs).
pytestmark = pytest.mark.xdist_group("grid-demo")


def test_the_demo_grid_has_dongchengs_counts_at_four_versions(demo_world):
    with demo_world.read() as db:
        stats = service.stats(db)
    assert [(s.level, s.count) for s in stats.levels] == [
        (GridLevel.STREET, 17), (GridLevel.COMMUNITY, 177), (GridLevel.BASIC, 592),
        (GridLevel.UNIT, 2322)]
    assert [s.version for s in stats.levels] == [1, 2, 3, 4] and stats.grid_version == 4
    areas = [s.area_m2 for s in stats.levels]
    assert max(areas) - min(areas) < 10.0  # the same district at every level
    assert areas[0] / 1e6 == pytest.approx(41.84, rel=0.01)


def _unit_layer(db, decimals: int) -> np.ndarray:
    collection = json.loads(service.level_geojson(db, level=GridLevel.UNIT,
                                                  decimals=decimals).body)
    assert collection["coordinate_system"] == "gcj02" and len(collection["features"]) == 2322
    polygons = [shapely.geometry.shape(f["geometry"]) for f in collection["features"]]
    return geometry_to_local_metric(np.array(polygons, dtype=object))


def test_the_exported_unit_grids_tile_the_real_boundary(demo_world):
    boundary = geometry_to_local_metric(load_dongcheng_boundary())
    with demo_world.read() as db:
        exported, for_maps = _unit_layer(db, 7), _unit_layer(db, 6)
    for layer in (exported, for_maps):
        union = shapely.union_all(layer)
        assert abs(union.area - boundary.area) / boundary.area < 0.005
        assert shapely.symmetric_difference(union, boundary).area / boundary.area < 0.005
    left, right = shapely.STRtree(exported).query(exported, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(exported[left[pairs]],
                                                exported[right[pairs]])).sum()
    assert overlap < 1.0  # m², over the whole district: rounding noise only


def test_the_demo_components_are_tens_of_thousands_each_in_its_unit_grid(demo_world):
    with demo_world.read() as db:
        rows = db.execute(select(Component.code, Component.minor_class, Component.lng,
                                 Component.lat, Component.unit_grid_code, Component.status,
                                 Unit.code).join(Unit, Unit.id == Component.owner_unit_id)).all()
        batch = service.locate_many(db, lngs=[r.lng for r in rows], lats=[r.lat for r in rows])
    assert len(rows) > 40_000
    assert batch.inside.all()
    assert batch.unit_codes.tolist() == [r.unit_grid_code for r in rows]
    codes = [r.code for r in rows]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 16 and c.startswith("110101") and c[6:10] == r.minor_class
               for c, r in zip(codes, rows, strict=True))
    owners = {(r.minor_class, r[6]) for r in rows}
    assert {owner for minor, owner in owners if minor == "0101"} == {"W002"}
    assert {owner for minor, owner in owners if minor == "0105"} == {"W001"}
    assert {owner for minor, owner in owners if minor == "0107"} == {"W007", "W008", "W009"}
    statuses = Counter(r.status for r in rows)
    assert statuses["intact"] / len(rows) > 0.9 and set(statuses) == {
        "intact", "damaged", "missing", "occupied", "abandoned"}
    # Like a city: most unit grids hold some, none holds an implausible share.
    per_grid = Counter(r.unit_grid_code for r in rows)
    assert len(per_grid) > 0.9 * 2322 and max(per_grid.values()) < 200


def test_the_demo_components_are_deterministic(demo_world):
    with demo_world.read() as db:
        snapshot = service.grid_snapshot(db)
        names = dict(db.execute(select(GridCellRecord.code, GridCellRecord.name).where(
            GridCellRecord.level == "community")).all())
        stored = db.execute(select(Component.code, Component.name, Component.lng, Component.lat)
                            .order_by(Component.code).limit(500)).all()
    again = sorted(demo.generate_demo_components(snapshot.index, names), key=lambda r: r.code)
    assert [(r.code, r.name, r.lng, r.lat) for r in again[:500]] == [tuple(s) for s in stored]


@pytest.mark.parametrize("class_code", ["0118", None])
def test_nearest_is_exact(demo_world, class_code):
    with demo_world.read() as db:
        query = select(Component.code, Component.lng, Component.lat)
        if class_code is not None:
            query = query.where(Component.minor_class.startswith(class_code))
        everything = db.execute(query).all()
        x, y = lnglat_to_local_metric([r.lng for r in everything], [r.lat for r in everything])
        rng = np.random.default_rng(7)
        for lng, lat in zip(rng.uniform(116.39, 116.43, 5), rng.uniform(39.87, 39.95, 5),
                            strict=True):
            found = components.nearest(db, lng=lng, lat=lat, major_minor=class_code, limit=7)
            (qx,), (qy,) = lnglat_to_local_metric([lng], [lat])
            distance = np.hypot(x - qx, y - qy)
            expected = sorted(zip(distance.tolist(), [r.code for r in everything],
                                  strict=True))[:7]
            assert [f.code for f in found] == [code for _, code in expected]
            assert [f.distance_m for f in found] == pytest.approx(
                [d for d, _ in expected], abs=0.01)
            if class_code is not None:
                assert all(f.minor_class.startswith(class_code) for f in found)


def test_nearest_converts_the_query_position(demo_world):
    with demo_world.read() as db:
        target = db.scalar(select(Component).where(Component.minor_class == "0113").limit(1))
        lng, lat = from_gcj02_array([target.lng], [target.lat], CRS.BD09)
        (found,) = components.nearest(db, lng=float(lng[0]), lat=float(lat[0]), crs=CRS.BD09,
                                      major_minor="0113", limit=1)
    assert found.code == target.code and found.distance_m < 0.05


def test_loading_the_demo_again_changes_nothing(demo_world):
    with demo_world.write() as db:
        assert demo.load_demo_grid(db, actor=SYSTEM_ACTOR) == {}
        assert demo.load_demo_components(db, actor=SYSTEM_ACTOR) == 0
    with demo_world.read() as db:
        assert service.current_version(db) == 4


def test_street_and_community_grids_carry_the_codes_and_names_of_the_demo_units(demo_world):
    with demo_world.read() as db:
        grids = dict(db.execute(select(GridCellRecord.code, GridCellRecord.name).where(
            GridCellRecord.level.in_(["street", "community"]))).all())
        units = dict(db.execute(select(Unit.code, Unit.name).where(Unit.code.in_(grids))).all())
    assert len(grids) == 17 + 177
    assert units == grids
