"""The Dongcheng demo grid and demo components, loaded through the services.

`load_demo_grid` imports the generated grid (`generate.demo_grid`) level by level, top down:
four audited imports, grid versions 1–4. `load_demo_components` generates about 42,000
components along a street network and imports them in one go. Both skip when their data
is already there, so `gridgov demo load` stays idempotent.

The demo components are deterministic (fixed seeds, list order) and invented: a network of
arterial roads about every 550 m both ways, and lanes — east–west hutongs every 75 m in the
old city north of the Qianmen line, 120 m south of it, and north–south lanes every ~280 m,
broken into pieces — clipped to the district. Each class lies along one or both networks at
its own distance from the centre line (covers in the carriageway, grates at the kerb, lamps
and trees on the pavement), traffic lights stand at the arterial crossings. Owners are the
demo's real bodies (自来水集团 owns 上水井盖, 排水集团 污水/雨水井盖, 供电公司 电力井盖 …) as in
the demo duty matrix; statuses are mostly 完好, with a few per cent 损坏, 丢失, 占用, 废弃.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.ops
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.audit.rules import Actor
from gridgov.demo.dongcheng import COUNTY_CODE
from gridgov.demo.loader import DEMO_IN_FORCE_SINCE
from gridgov.errors import Conflict
from gridgov.grid import components, service
from gridgov.grid.components import ComponentRow, ComponentStatus, component_classes
from gridgov.grid.crs import CRS, lnglat_to_local_metric, local_metric_to_lnglat
from gridgov.grid.generate import demo_grid, geojson_features, load_dongcheng_boundary
from gridgov.grid.locate import OUTSIDE, GridIndex
from gridgov.grid.models import Component, GridCellRecord
from gridgov.grid.rules import GridLevel
from gridgov.org.models import Unit

DEMO_GRID_SOURCE = "东城区演示网格（生成）"
DEMO_COMPONENTS_SOURCE = "东城区演示部件（生成）"
COMPONENT_SEED = 20040701  # Dongcheng's grid-based management began as a pilot in 2004

ARTERIAL_SPACING_M = (450.0, 650.0)
HUTONG_SPACING_NORTH_M = (65.0, 85.0)
HUTONG_SPACING_SOUTH_M = (105.0, 135.0)
NS_LANE_SPACING_M = (240.0, 320.0)
LANE_PIECE_M = (150.0, 600.0)
LANE_GAP_M = (20.0, 140.0)
QIANMEN_LAT = 39.900  # north of it: the old inner city with its dense hutongs


# --- the grid ----------------------------------------------------------------------------


def demo_grid_loaded(db: Session) -> bool:
    return service.current_version(db) > 0


def load_demo_grid(db: Session, *, actor: Actor) -> dict[GridLevel, int]:
    """Import the four levels of the generated Dongcheng grid (17 / 177 / 592 / 2,322), each
    one audited version in force since the demo's start (so that cases of the past locate and
    a new import may take effect at any later time); returns the cells per level, or {} when a
    grid is already there."""
    if demo_grid_loaded(db):
        return {}
    cells = demo_grid()
    loaded = {}
    for level in GridLevel:
        collection = geojson_features(c for c in cells if c.level is level)
        result = service.import_level(db, actor=actor, level=level, collection=collection,
                                      source_name=DEMO_GRID_SOURCE, effective_at=DEMO_IN_FORCE_SINCE)
        loaded[level] = result.cells
    return loaded


# --- components --------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """How many of a class go where, and at what distance from the road's centre line."""

    minor_class: str
    owners: tuple[str, ...]
    network: str  # "arterial", "lane" or "crossing"
    count: int
    offset_m: tuple[float, float]  # min, max distance from the centre line, either side


P = Placement
PLACEMENTS: tuple[Placement, ...] = (
    P("0101", ("W002",), "arterial", 2000, (0.0, 4.0)),  # 上水井盖 自来水集团
    P("0101", ("W002",), "lane", 1500, (0.0, 1.5)),
    P("0102", ("W005",), "arterial", 1800, (0.0, 3.0)),  # 污水井盖 排水集团
    P("0102", ("W005",), "lane", 1700, (0.0, 1.0)),
    P("0103", ("W005",), "arterial", 2000, (4.0, 6.0)),  # 雨水井盖
    P("0104", ("W005",), "arterial", 4000, (7.0, 8.5)),  # 雨水箅子, at the kerb
    P("0105", ("W001",), "arterial", 1800, (8.5, 11.0)),  # 电力井盖 供电公司
    P("0105", ("W001",), "lane", 700, (1.0, 2.5)),
    P("0106", ("D030",), "arterial", 1000, (9.5, 11.0)),  # 路灯井盖 市政市容中心
    P("0107", ("W007", "W008", "W009"), "arterial", 1400, (8.5, 11.5)),  # 通讯井盖
    P("0107", ("W007", "W008", "W009"), "lane", 600, (1.0, 2.5)),
    P("0108", ("W006",), "arterial", 600, (8.5, 11.5)),  # 电视井盖 歌华有线
    P("0110", ("W004",), "arterial", 1000, (2.0, 6.0)),  # 热力井盖 热力集团
    P("0110", ("W004",), "lane", 500, (0.5, 2.0)),
    P("0111", ("W003",), "arterial", 800, (3.0, 7.0)),  # 燃气井盖 燃气集团
    P("0111", ("W003",), "lane", 700, (0.5, 2.0)),
    P("0113", ("D020",), "arterial", 500, (9.0, 10.0)),  # 消防设施（消火栓） 消防救援支队
    P("0113", ("D020",), "lane", 300, (2.0, 3.0)),
    P("0118", ("D030",), "arterial", 4500, (10.5, 11.5)),  # 路灯 市政市容中心
    P("0118", ("D030",), "lane", 1500, (2.5, 3.5)),
    P("0305", ("D015",), "arterial", 1500, (10.0, 11.5)),  # 垃圾箱 环卫中心
    P("0305", ("D015",), "lane", 1000, (2.5, 3.5)),
    P("0402", ("D004",), "arterial", 7000, (11.5, 13.0)),  # 行道树 园林绿化局
    P("0209", ("D013",), "arterial", 1200, (10.0, 12.0)),  # 交通标志牌 交通支队
    P("0210", ("D013",), "crossing", 0, (11.0, 14.0)),  # 交通信号灯, 4 per crossing
    P("0213", ("D008",), "lane", 800, (2.0, 3.5)),  # 路名牌 民政局
    P("0301", ("D015",), "lane", 400, (4.0, 8.0)),  # 公共厕所 环卫中心
    P("0203", ("W010",), "arterial", 300, (10.0, 12.0)),  # 公交站亭 公交集团
    P("0212", ("D001",), "arterial", 500, (10.5, 12.0)),  # 存车支架 城管委
)


@dataclass(frozen=True)
class Segments:
    """Straight road pieces in the metric plane: x0, y0, x1, y1 and horizontal (E–W) or not."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    horizontal: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.hypot(self.x1 - self.x0, self.y1 - self.y0)


def _clip(lines: list[shapely.LineString], area: shapely.Polygon) -> list[shapely.LineString]:
    clipped = shapely.intersection(np.asarray(lines, dtype=object), area)
    parts = shapely.get_parts(clipped)
    return [p for p in parts if isinstance(p, shapely.LineString) and p.length > 1.0]


def _segments(lines: Sequence[shapely.LineString]) -> Segments:
    starts = shapely.get_coordinates(shapely.get_point(np.asarray(lines, dtype=object), 0))
    ends = shapely.get_coordinates(shapely.get_point(np.asarray(lines, dtype=object), -1))
    horizontal = np.abs(ends[:, 1] - starts[:, 1]) < np.abs(ends[:, 0] - starts[:, 0])
    return Segments(starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1], horizontal)


def _positions(start: float, stop: float, spacing, rng: np.random.Generator) -> list[float]:
    out, at = [], start + rng.uniform(0.2, 0.8) * spacing[0]
    while at < stop:
        out.append(at)
        at += rng.uniform(*spacing)
    return out


def _broken(line: shapely.LineString, rng: np.random.Generator) -> list[shapely.LineString]:
    """A lane as pieces with gaps: hutongs end, bend and start again."""
    pieces, at = [], rng.uniform(0, LANE_GAP_M[1])
    while at < line.length:
        end = min(at + rng.uniform(*LANE_PIECE_M), line.length)
        pieces.append(shapely.ops.substring(line, at, end))
        at = end + rng.uniform(*LANE_GAP_M)
    return [p for p in pieces if isinstance(p, shapely.LineString) and p.length > 20.0]


@dataclass(frozen=True)
class Network:
    arterial: Segments
    lane: Segments
    crossings: np.ndarray  # (n, 2) metres


def street_network(boundary_m: shapely.Polygon, rng: np.random.Generator) -> Network:
    minx, miny, maxx, maxy = boundary_m.bounds
    xs = _positions(minx, maxx, ARTERIAL_SPACING_M, rng)
    ys = _positions(miny, maxy, ARTERIAL_SPACING_M, rng)
    vertical = [shapely.LineString([(x, miny - 1), (x, maxy + 1)]) for x in xs]
    horizontal = [shapely.LineString([(minx - 1, y), (maxx + 1, y)]) for y in ys]
    arterial = _clip(vertical + horizontal, boundary_m)

    _, qianmen_y = lnglat_to_local_metric([116.40], [QIANMEN_LAT])
    north_of = float(qianmen_y[0])
    lanes: list[shapely.LineString] = []
    y = miny + rng.uniform(20, 60)
    while y < maxy:
        lanes.append(shapely.LineString([(minx - 1, y), (maxx + 1, y)]))
        y += rng.uniform(*(HUTONG_SPACING_NORTH_M if y > north_of else HUTONG_SPACING_SOUTH_M))
    for x in _positions(minx, maxx, NS_LANE_SPACING_M, rng):
        lanes.append(shapely.LineString([(x, miny - 1), (x, maxy + 1)]))
    lane_pieces = [piece for line in _clip(lanes, boundary_m) for piece in _broken(line, rng)]

    crossings = shapely.get_coordinates(shapely.intersection_all(
        [shapely.MultiLineString(vertical), shapely.MultiLineString(horizontal)]))
    inside = shapely.contains_xy(boundary_m, crossings[:, 0], crossings[:, 1])
    return Network(_segments(arterial), _segments(lane_pieces), crossings[inside])


def _along(segments: Segments, count: int, offset_m: tuple[float, float],
           rng: np.random.Generator) -> np.ndarray:
    """`count` points spread evenly (with jitter) along the segments, either side of the line."""
    lengths = segments.lengths
    total = lengths.sum()
    spacing = total / count
    at = (np.arange(count) + 0.5 + rng.uniform(-0.35, 0.35, count)) * spacing
    ends = np.cumsum(lengths)
    which = np.minimum(np.searchsorted(ends, at, side="right"), len(lengths) - 1)
    fraction = np.clip((at - (ends[which] - lengths[which])) / lengths[which], 0, 1)
    x = segments.x0[which] + fraction * (segments.x1[which] - segments.x0[which])
    y = segments.y0[which] + fraction * (segments.y1[which] - segments.y0[which])
    offset = rng.uniform(*offset_m, count) * rng.choice([-1.0, 1.0], count)
    horizontal = segments.horizontal[which]
    return np.column_stack([x + np.where(horizontal, 0.0, offset),
                            y + np.where(horizontal, offset, 0.0)])


def _at_crossings(crossings: np.ndarray, offset_m: tuple[float, float],
                  rng: np.random.Generator) -> np.ndarray:
    """Four signal heads at about three crossings in four."""
    signalled = crossings[rng.random(len(crossings)) < 0.75]
    corners = np.array([(-1, -1), (-1, 1), (1, -1), (1, 1)], dtype=float)
    points = signalled[:, None, :] + corners[None, :, :] * rng.uniform(
        *offset_m, (len(signalled), 4, 1))
    return points.reshape(-1, 2)


_STATUSES = (ComponentStatus.INTACT, ComponentStatus.DAMAGED, ComponentStatus.MISSING,
             ComponentStatus.OCCUPIED, ComponentStatus.ABANDONED)
_COVER_WEIGHTS = (0.94, 0.03, 0.01, 0.015, 0.005)  # covers and grates can go missing
_OTHER_WEIGHTS = (0.95, 0.035, 0.0, 0.01, 0.005)
_COVER_CLASSES = frozenset(f"01{n:02d}" for n in range(1, 15)) | {"0127", "0128"}


def generate_demo_components(
    index: GridIndex, community_names: dict[str, str], *, seed: int = COMPONENT_SEED,
) -> list[ComponentRow]:
    """The demo components (GCJ-02), each inside a unit grid of `index`, numbered per class
    by unit grid, then north→south and west→east; named after their community."""
    rng = np.random.default_rng(seed)
    boundary = load_dongcheng_boundary()
    boundary_m = shapely.transform(
        boundary, lambda c: np.column_stack(lnglat_to_local_metric(c[:, 0], c[:, 1])))
    network = street_network(boundary_m, rng)

    xy_parts, classes, owners = [], [], []
    for placement in PLACEMENTS:
        if placement.network == "crossing":
            xy = _at_crossings(network.crossings, placement.offset_m, rng)
        else:
            segments = network.arterial if placement.network == "arterial" else network.lane
            xy = _along(segments, placement.count, placement.offset_m, rng)
        xy_parts.append(xy)
        classes.extend([placement.minor_class] * len(xy))
        owners.extend(rng.choice(placement.owners, len(xy)).tolist())
    xy = np.concatenate(xy_parts)
    lngs, lats = local_metric_to_lnglat(xy[:, 0], xy[:, 1])
    lngs = np.array([round(v, 7) for v in lngs.tolist()])
    lats = np.array([round(v, 7) for v in lats.tolist()])
    located = index.locate_many(lngs, lats, CRS.GCJ02)
    units = located.unit_codes().tolist()
    cover_draw = rng.choice(len(_STATUSES), len(xy), p=_COVER_WEIGHTS)
    other_draw = rng.choice(len(_STATUSES), len(xy), p=_OTHER_WEIGHTS)

    by_class: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(located.rows.tolist()):
        if row != OUTSIDE:
            by_class[classes[i]].append(i)
    names = component_classes()
    rows: list[ComponentRow] = []
    for minor in sorted(by_class):
        members = sorted(by_class[minor], key=lambda i: (units[i], -lats[i], lngs[i], i))
        per_community: dict[str, int] = defaultdict(int)
        for seq, i in enumerate(members, start=1):
            community = units[i][:12]
            per_community[community] += 1
            status = _STATUSES[(cover_draw if minor in _COVER_CLASSES else other_draw)[i]]
            name = (f"{community_names.get(community, '')}{names[minor].name}"
                    f"{per_community[community]:03d}")
            rows.append(ComponentRow(len(rows) + 1, f"{COUNTY_CODE}{minor}{seq:06d}", name,
                                     owners[i], status.value, float(lngs[i]), float(lats[i])))
    return rows


def load_demo_components(db: Session, *, actor: Actor) -> int:
    """Generate and import the demo components (one audited import); returns how many, or 0
    when components are already there. Needs the demo organisation and the demo grid."""
    if db.scalar(select(func.count()).select_from(Component)):
        return 0
    owners = {owner for placement in PLACEMENTS for owner in placement.owners}
    present = set(db.scalars(select(Unit.code).where(Unit.code.in_(owners))))
    if missing := sorted(owners - present):
        raise Conflict(f"缺少演示组织机构（单位 {'、'.join(missing)}）：请先载入演示组织机构")
    snapshot = service.grid_snapshot(db)
    community_names = dict(db.execute(select(GridCellRecord.code, GridCellRecord.name).where(
        GridCellRecord.level == GridLevel.COMMUNITY.value,
        GridCellRecord.version_to.is_(None))).all())
    rows = generate_demo_components(snapshot.index, community_names)
    result = components.import_components(db, actor=actor, rows=rows, crs=CRS.GCJ02,
                                          source_name=DEMO_COMPONENTS_SOURCE)
    return result.created
