"""A tiny grid for tests that write: two streets side by side, one community each, two basic
grids per community (west, east half), two unit grids per basic grid (north, south half).

    116.400     116.405     116.410     116.415     116.420
39.910 +-----------+-----------+-----------+-----------+
       |  ...001   |  ...003   |  ...001   |  ...003   |
39.905 +-----------+-----------+-----------+-----------+
       |  ...002   |  ...004   |  ...002   |  ...004   |
39.900 +-----------+-----------+-----------+-----------+
        basic 01     basic 02    basic 01     basic 02
       `-- street 110101001 --'  `-- street 110101002 --'
"""

from typing import Any

from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.grid import service
from gridgov.grid.rules import GridLevel

WEST, MIDDLE, EAST = 116.40, 116.41, 116.42
SOUTH, NORTH = 39.90, 39.91
STREETS = ("110101001", "110101002")


def rect(x0: float, y0: float, x1: float, y1: float) -> list[list[list[float]]]:
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def feature(code: str, name: str, parent: str, coordinates, basic: str | None = None,
            **extra: Any) -> dict:
    properties = {"code": code, "name": name, "parent_code": parent, **extra}
    if basic is not None:
        properties["basic_code"] = basic
    return {"type": "Feature", "id": code, "properties": properties,
            "geometry": {"type": "Polygon", "coordinates": coordinates}}


def collection(features: list[dict], crs: str | None = "gcj02") -> dict:
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        fc["coordinate_system"] = crs
    return fc


def _street_x(index: int) -> float:
    return WEST + index * (MIDDLE - WEST)


def streets() -> dict:
    return collection([
        feature(code, f"街道{i + 1}", "110101", rect(_street_x(i), SOUTH, _street_x(i + 1), NORTH))
        for i, code in enumerate(STREETS)])


def communities() -> dict:
    return collection([
        feature(f"{code}001", f"社区{i + 1}", code,
                rect(_street_x(i), SOUTH, _street_x(i + 1), NORTH))
        for i, code in enumerate(STREETS)])


def basic_bounds(street_index: int, basic: int) -> tuple[float, float]:
    x0 = _street_x(street_index) + (basic - 1) * 0.005
    return x0, x0 + 0.005


def basics() -> dict:
    features = []
    for i, code in enumerate(STREETS):
        for b in (1, 2):
            x0, x1 = basic_bounds(i, b)
            features.append(feature(f"{code}001{b:02d}", f"社区{i + 1}第{b}基础网格", f"{code}001",
                                    rect(x0, SOUTH, x1, NORTH)))
    return collection(features)


def unit_features() -> list[dict]:
    features = []
    for i, code in enumerate(STREETS):
        community = f"{code}001"
        for b in (1, 2):
            x0, x1 = basic_bounds(i, b)
            for half, (y0, y1) in enumerate(((39.905, NORTH), (SOUTH, 39.905))):
                seq = (b - 1) * 2 + half + 1
                features.append(feature(f"{community}{seq:03d}", f"单元{i + 1}-{seq}", community,
                                        rect(x0, y0, x1, y1), basic=f"{community}{b:02d}"))
    return features


def units() -> dict:
    return collection(unit_features())


LEVELS = {GridLevel.STREET: streets, GridLevel.COMMUNITY: communities,
          GridLevel.BASIC: basics, GridLevel.UNIT: units}


def load_small_grid(database) -> list[service.GridImportResult]:
    """Imports the four levels; returns the four results (versions 1–4)."""
    results = []
    for level, build in LEVELS.items():
        with database.write() as db:
            results.append(service.import_level(db, actor=SYSTEM_ACTOR, level=level,
                                                collection=build()))
    return results
