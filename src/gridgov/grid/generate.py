"""The demo grid of Dongcheng: 17 streets, 177 communities, 592 basic and 2,322 unit grids.

Built in the local metric plane (`crs.LOCAL_METRIC_PROJ`), top down:
1. streets: Voronoi cells of the 17 given street centres, clipped to the real boundary;
2. communities: Lloyd-relaxed (centroidal) Voronoi cells inside each street, as many as
   the street has communities in `gridgov.demo.dongcheng`;
3. basic grids: 592 shared out over communities by area (largest remainder, at least one
   each), then Lloyd cells inside each community; unit grids: 2,322 over basic grids, alike.
A fragment cut off a cell by a concave parent joins the neighbour it shares the longest
edge with, so every cell is one Polygon. The unit grids then get identical vertices on both
sides of every seam, go to GCJ-02 lng/lat rounded to 7 decimals, and each upper level is
rebuilt as the exact union of its unit grids: every level is an exact coverage (checked)
in memory and in the GeoJSON. Codes run west→east, north→south (`reading_order`).

Deterministic: seeds derive from fixed numbers and parent positions, every loop runs in
list order, and equal coordinates stay equal through projection and rounding.
"""

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import shapely
from shapely import MultiPolygon, Polygon

from gridgov.demo.dongcheng import COUNTY_CODE, STREETS
from gridgov.grid.crs import (
    METRES_PER_DEGREE_LAT,
    geometry_from_local_metric,
    geometry_to_local_metric,
    lnglat_to_local_metric,
)
from gridgov.grid.rules import GridCell, GridLevel

DONGCHENG_BASIC_GRIDS = 592
DONGCHENG_UNIT_GRIDS = 2322
BOUNDARY_RESOURCE = "dongcheng_boundary.geojson"

COORDINATE_DECIMALS = 7
# Well above float noise (~1e-10 m), well below any real vertex spacing (~0.1 m).
SEAM_TOLERANCE_M = 1e-4
LLOYD_ITERATIONS = 30
LLOYD_ATTEMPTS = 4
GOOD_EVENNESS = 0.6  # smallest cell / mean cell of one parent that needs no other attempt
SEED_BASE = 20180604  # the day "street whistles, departments report" went online


@dataclass(frozen=True)
class ShapeBounds:
    """What the generated cells of one level guarantee (tested)."""

    min_polsby_popper: float  # 4πA/P²: 1 for a disc, 0.785 a square, 0.56 a 3:1 rectangle
    min_area_share: float  # smallest cell / mean cell of the level
    max_area_share: float


# Communities vary most: each street has a fixed number of them whatever its size.
# The lowest compactness belongs to cells that follow the ragged district boundary.
SHAPE_BOUNDS: dict[GridLevel, ShapeBounds] = {
    GridLevel.STREET: ShapeBounds(0.25, 0.4, 2.0),
    GridLevel.COMMUNITY: ShapeBounds(0.4, 0.3, 2.5),
    GridLevel.BASIC: ShapeBounds(0.35, 0.5, 2.0),
    GridLevel.UNIT: ShapeBounds(0.25, 0.5, 2.0),
}


class GenerationError(RuntimeError):
    """The generated grid broke one of its own invariants (a bug, not a user error)."""


def load_dongcheng_boundary() -> Polygon:
    """Dongcheng's outer boundary in GCJ-02 lng/lat, from the packaged GeoJSON."""
    text = resources.files("gridgov").joinpath("data", BOUNDARY_RESOURCE).read_text("utf-8")
    (feature,) = json.loads(text)["features"]
    geometry = shapely.geometry.shape(feature["geometry"])
    if isinstance(geometry, MultiPolygon):
        (geometry,) = geometry.geoms
    return geometry


# --- apportionment and ordering ----------------------------------------------------------


def apportion(weights: Sequence[float], total: int, minimum: int = 1) -> list[int]:
    """Split `total` in proportion to `weights`, at least `minimum` each (largest remainder).

    Ties go to the lower index, so the result depends only on the inputs' order.
    """
    if total < minimum * len(weights):
        raise ValueError(f"cannot give {len(weights)} items at least {minimum} out of {total}")
    weight_sum = float(sum(weights))
    quotas = [total * w / weight_sum for w in weights]
    shares = [max(minimum, int(q)) for q in quotas]
    while sum(shares) < total:
        best = max(range(len(shares)), key=lambda i: (quotas[i] - shares[i], -i))
        shares[best] += 1
    while sum(shares) > total:
        candidates = [i for i in range(len(shares)) if shares[i] > minimum]
        worst = min(candidates, key=lambda i: (quotas[i] - shares[i], i))
        shares[worst] -= 1
    return shares


def reading_order(lngs: Sequence[float], lats: Sequence[float], band_height: float) -> list[int]:
    """Indices in reading order: west→east inside latitude bands taken north→south.

    Bands are `band_height` degrees of latitude tall, the first one starting at the
    northernmost point; ties go to the lower index.
    """
    top = max(lats)
    bands = [int((top - lat) // band_height) for lat in lats]
    return sorted(range(len(lats)), key=lambda i: (bands[i], lngs[i], i))


def band_height_for(polygons: Sequence[Polygon]) -> float:
    """One row of cells: the side of the mean cell, in degrees of latitude."""
    metric = geometry_to_local_metric(np.asarray(polygons, dtype=object))
    side_m = float(np.sqrt(shapely.area(metric).mean()))
    return side_m / METRES_PER_DEGREE_LAT


def _reading_order_of(polygons: Sequence[Polygon]) -> list[int]:
    centroids = shapely.centroid(np.asarray(polygons, dtype=object))
    return reading_order(
        shapely.get_x(centroids).tolist(),
        shapely.get_y(centroids).tolist(),
        band_height_for(polygons),
    )


# --- partitioning a polygon in the metric plane ------------------------------------------


def voronoi_cells(parent: Polygon, seeds: np.ndarray) -> list[Polygon | MultiPolygon]:
    """Voronoi cells of `seeds` (n×2, metres) clipped to `parent`, in seed order."""
    diagram = shapely.voronoi_polygons(
        shapely.multipoints(seeds), extend_to=parent.envelope.buffer(100.0), ordered=True
    )
    return list(shapely.intersection(np.asarray(diagram.geoms, dtype=object), parent))


def _shared_length(a: Polygon | MultiPolygon, b: Polygon | MultiPolygon) -> float:
    # Separately clipped neighbours meet only up to float noise: measure with 1 mm slack.
    return shapely.length(shapely.intersection(a.boundary, shapely.buffer(b, 1e-3)))


def merge_fragments(
    cells: list[Polygon | MultiPolygon], anchors: Sequence[shapely.Point] | None = None
) -> list[Polygon]:
    """Make every cell one Polygon: each cell keeps the part holding its anchor (or its
    largest part); every other part joins the neighbour it shares the longest edge with.
    """
    cells = list(cells)
    for _ in range(len(cells) * 4):
        multipart = next((i for i, c in enumerate(cells) if isinstance(c, MultiPolygon)), None)
        if multipart is None:
            return cells
        parts = sorted(cells[multipart].geoms, key=lambda p: -p.area)
        if anchors is not None:
            parts.sort(key=lambda p: not p.covers(anchors[multipart]))
        kept, fragments = parts[0], parts[1:]
        cells[multipart] = kept
        for fragment in fragments:
            others = [j for j in range(len(cells)) if j != multipart]
            target = max(others, key=lambda j: (_shared_length(fragment, cells[j]), -j))
            if _shared_length(fragment, cells[target]) == 0.0:
                raise GenerationError("a cut-off fragment touches no other cell")
            # A tiny snap heals the float-level seam between separately clipped cells.
            merged = shapely.union(cells[target], fragment, grid_size=1e-6)
            cells[target] = _single_polygon(merged)
    raise GenerationError("fragments kept moving between cells")


def _single_polygon(geometry) -> Polygon | MultiPolygon:
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    polygons = [g for g in shapely.get_parts(geometry) if isinstance(g, Polygon)]
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def random_points_inside(parent: Polygon, count: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = parent.bounds
    found: list[np.ndarray] = []
    need = count
    while need > 0:
        batch = rng.random((max(64, need * 8), 2)) * [maxx - minx, maxy - miny] + [minx, miny]
        inside = batch[shapely.contains_xy(parent, batch[:, 0], batch[:, 1])]
        found.append(inside[:need])
        need -= len(found[-1])
    return np.concatenate(found)


def lloyd_partition(
    parent: Polygon, count: int, rng: np.random.Generator, iterations: int = LLOYD_ITERATIONS
) -> list[Polygon]:
    """`count` compact cells of roughly equal area tiling `parent` (centroidal Voronoi).

    A concave parent can trap a cell in a corner; then it restarts from other random seeds
    and keeps the most even of its attempts.
    """
    if count == 1:
        return [parent]
    best: list[Polygon] = []
    best_evenness = -1.0
    for _ in range(LLOYD_ATTEMPTS):
        cells = _relaxed_voronoi(parent, count, rng, iterations)
        evenness = min(c.area for c in cells) * count / parent.area
        if evenness > best_evenness:
            best, best_evenness = cells, evenness
        if evenness >= GOOD_EVENNESS:
            break
    if best_evenness <= 0:
        raise GenerationError(f"no attempt gave {count} non-empty cells")
    return best


def _relaxed_voronoi(
    parent: Polygon, count: int, rng: np.random.Generator, iterations: int
) -> list[Polygon]:
    seeds = random_points_inside(parent, count, rng)
    for _ in range(iterations):
        centroids = shapely.centroid(np.asarray(voronoi_cells(parent, seeds), dtype=object))
        moved = shapely.get_coordinates(centroids)
        if len(moved) != count:  # a cell fell wholly outside the parent: start afresh
            moved = random_points_inside(parent, count, rng)
        seeds = moved
    return merge_fragments(voronoi_cells(parent, seeds))


# --- the whole district ------------------------------------------------------------------


def subdivide(
    parents: Sequence[Polygon], counts: Sequence[int], level: int
) -> tuple[list[Polygon], list[int]]:
    """Lloyd cells of every parent, flattened, with the index of each child's parent."""
    children: list[Polygon] = []
    owner: list[int] = []
    for index, (parent, count) in enumerate(zip(parents, counts, strict=True)):
        rng = np.random.default_rng([SEED_BASE, level, index])
        cells = lloyd_partition(parent, count, rng)
        children.extend(cells)
        owner.extend([index] * len(cells))
    return children, owner


@dataclass(frozen=True)
class MetricHierarchy:
    """Unit grids in metres and, by index, the basic grid / community / street above."""

    units: list[Polygon]
    unit_basic: list[int]
    basic_community: list[int]
    community_street: list[int]


def _projected(lngs: np.ndarray, lats: np.ndarray) -> np.ndarray:
    # Micrometre rounding absorbs last-bit differences between maths libraries (PROJ calls
    # the platform's sin/cos), so every machine starts Lloyd from the same numbers.
    x, y = lnglat_to_local_metric(lngs, lats)
    return np.round(np.column_stack([x, y]), 6)


def metric_hierarchy(boundary: Polygon) -> MetricHierarchy:
    """The whole hierarchy for a GCJ-02 boundary, built in the local metric plane."""
    boundary_m = shapely.transform(boundary, lambda c: _projected(c[:, 0], c[:, 1]))
    centres = _projected(*np.array([s.centre for s in STREETS]).T)
    streets = merge_fragments(
        voronoi_cells(boundary_m, centres), anchors=list(shapely.points(centres))
    )
    communities, community_street = subdivide(
        streets, [len(s.communities) for s in STREETS], level=1
    )
    basic_counts = apportion([c.area for c in communities], DONGCHENG_BASIC_GRIDS)
    basics, basic_community = subdivide(communities, basic_counts, level=2)
    unit_counts = apportion([b.area for b in basics], DONGCHENG_UNIT_GRIDS)
    units, unit_basic = subdivide(basics, unit_counts, level=3)
    return MetricHierarchy(units, unit_basic, basic_community, community_street)


def join_seams(polygons: Sequence[Polygon]) -> list[Polygon]:
    """The same tiling (metric plane) with the same vertices on both sides of every seam.

    Separately clipped neighbours meet only up to float noise, and a vertex where a child
    edge meets its parent's outline exists on one side only. Each polygon takes in every
    neighbouring vertex within `SEAM_TOLERANCE_M` of it. Done in metres, where such vertices
    lie on the straight edge: projected to lng/lat the edge bends away by millimetres.
    """
    originals = np.asarray(polygons, dtype=object)
    joined = originals.copy()
    tree = shapely.STRtree(originals)
    for i, polygon in enumerate(originals):
        near = tree.query(polygon, predicate="dwithin", distance=SEAM_TOLERANCE_M)
        near = near[near != i]
        # Neighbours already joined lend their final vertices, so a pair of near-equal
        # vertices collapses onto one of them instead of swapping places.
        reference = shapely.multipoints(shapely.get_coordinates(joined[near]))
        joined[i] = shapely.snap(polygon, reference, SEAM_TOLERANCE_M)
    return list(joined)


def round_polygon(polygon: Polygon, decimals: int = COORDINATE_DECIMALS) -> Polygon:
    """Coordinates rounded as Python's round() does, so they print with `decimals` digits."""
    rounded = shapely.transform(polygon, lambda c: _round_array(c, decimals))
    return shapely.remove_repeated_points(rounded)


def _round_array(coords: np.ndarray, decimals: int) -> np.ndarray:
    values = [round(v, decimals) for v in coords.ravel().tolist()]
    return np.asarray(values, dtype=np.float64).reshape(coords.shape)


@functools.cache
def demo_grid() -> tuple[GridCell, ...]:
    """`generate_dongcheng()` computed once per process (cells and polygons are immutable)."""
    return tuple(generate_dongcheng())


def generate_dongcheng(boundary: Polygon | None = None) -> list[GridCell]:
    """The demo grid: streets, communities, basic grids, unit grids (in that order)."""
    boundary = boundary if boundary is not None else load_dongcheng_boundary()
    hierarchy = metric_hierarchy(boundary)
    # Equal vertices project and round equally, so the coverage stays exact in lng/lat.
    joined = np.asarray(join_seams(hierarchy.units), dtype=object)
    units = [round_polygon(u) for u in geometry_from_local_metric(joined)]
    if not shapely.coverage_is_valid(np.asarray(units, dtype=object)):
        raise GenerationError("unit grids are not an exact coverage after rounding")
    return _coded_cells(
        units, hierarchy.unit_basic, hierarchy.basic_community, hierarchy.community_street
    )


def _union_by(polygons: Sequence[Polygon], owner: Sequence[int]) -> list[Polygon]:
    groups: dict[int, list[Polygon]] = defaultdict(list)
    for polygon, o in zip(polygons, owner, strict=True):
        groups[o].append(polygon)
    unions = []
    for o in range(len(groups)):
        union = shapely.coverage_union_all(np.asarray(groups[o], dtype=object))
        if not isinstance(union, Polygon):
            raise GenerationError(f"cell {o} is not one polygon: {union.geom_type}")
        unions.append(union)
    return unions


def _coded_cells(
    units: list[Polygon],
    unit_basic: list[int],
    basic_community: list[int],
    community_street: list[int],
) -> list[GridCell]:
    basics = _union_by(units, unit_basic)
    unit_community = [basic_community[b] for b in unit_basic]
    communities = _union_by(units, unit_community)
    streets = _union_by(units, [community_street[c] for c in unit_community])

    cells: list[GridCell] = []
    community_code: dict[int, str] = {}
    community_name: dict[int, str] = {}
    for s, street in enumerate(STREETS):
        cells.append(GridCell(GridLevel.STREET, street.code, street.full_name, COUNTY_CODE,
                              None, streets[s]))
        members = [c for c, owner in enumerate(community_street) if owner == s]
        for seq, k in enumerate(_reading_order_of([communities[c] for c in members])):
            c = members[k]
            community_code[c] = street.community_code(seq)
            community_name[c] = f"{street.communities[seq]}社区"
            cells.append(GridCell(GridLevel.COMMUNITY, community_code[c], community_name[c],
                                  street.code, None, communities[c]))

    basic_code: dict[int, str] = {}
    for c in sorted(community_code, key=community_code.get):
        members = [b for b, owner in enumerate(basic_community) if owner == c]
        for seq, k in enumerate(_reading_order_of([basics[b] for b in members])):
            b = members[k]
            basic_code[b] = f"{community_code[c]}{seq + 1:02d}"
            cells.append(GridCell(GridLevel.BASIC, basic_code[b],
                                  f"{community_name[c]}第{seq + 1}基础网格",
                                  community_code[c], None, basics[b]))

    for c in sorted(community_code, key=community_code.get):
        members = [u for u, owner in enumerate(unit_community) if owner == c]
        for seq, k in enumerate(_reading_order_of([units[u] for u in members])):
            u = members[k]
            cells.append(GridCell(GridLevel.UNIT, f"{community_code[c]}{seq + 1:03d}",
                                  f"{community_name[c]}单元网格{seq + 1:03d}",
                                  community_code[c], basic_code[unit_basic[u]], units[u]))
    return _sorted_by_level(cells)


def _sorted_by_level(cells: Iterable[GridCell]) -> list[GridCell]:
    order = {level: i for i, level in enumerate(GridLevel)}
    return sorted(cells, key=lambda c: (order[c.level], c.code))


# --- GeoJSON -----------------------------------------------------------------------------


def geojson_features(cells: Iterable[GridCell]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (GCJ-02, 7 decimals) of `cells`."""
    features = []
    for cell in cells:
        geometry = shapely.geometry.mapping(cell.polygon)
        geometry = {
            "type": "Polygon",
            "coordinates": [
                [[round(x, COORDINATE_DECIMALS), round(y, COORDINATE_DECIMALS)] for x, y in ring]
                for ring in geometry["coordinates"]
            ],
        }
        features.append({
            "type": "Feature",
            "id": cell.code,
            "properties": {
                "code": cell.code,
                "name": cell.name,
                "level": cell.level.value,
                "parent_code": cell.parent_code,
                "basic_code": cell.basic_code,
            },
            "geometry": geometry,
        })
    return {"type": "FeatureCollection", "coordinate_system": "gcj02", "features": features}
