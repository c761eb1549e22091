"""Coordinate systems of incoming positions and conversion to the stored one (GCJ-02).

Scalars go through `prcoords`. The numpy versions mirror prcoords' formulas term by term
(prcoords only takes Python floats), including its iterative "bored" inverse, so a batch
gives the same answer as a loop of scalar calls. Like prcoords, points outside the rough
box of China are left unshifted: GCJ-02 is only defined inside China.
"""

import threading
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

import numpy as np
import prcoords
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

FloatArray = NDArray[np.float64]
PlaneMap = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]
GeometryT = TypeVar("GeometryT")


class CRS(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    @property
    def label(self) -> str:
        return CRS_LABELS[self]


CRS_LABELS: dict[CRS, str] = {
    CRS.WGS84: "WGS-84（GPS）",
    CRS.GCJ02: "GCJ-02（高德、腾讯、微信）",
    CRS.BD09: "BD-09（百度）",
}

STORED_CRS = CRS.GCJ02


def in_china(lng: float, lat: float) -> bool:
    return prcoords.sanity_in_china_p(prcoords.Coords(lat, lng))


# --- scalars (prcoords; its Coords are (lat, lon)) -------------------------------------


def to_gcj02(lng: float, lat: float, crs: CRS) -> tuple[float, float]:
    """Convert one position from `crs` to GCJ-02; returns (lng, lat)."""
    crs = CRS(crs)
    if crs is CRS.GCJ02:
        return lng, lat
    if crs is CRS.BD09:
        out = prcoords.bd_gcj_bored((lat, lng))
        return out.lon, out.lat
    if not in_china(lng, lat):
        return lng, lat
    out = prcoords.wgs_gcj((lat, lng), False)
    return out.lon, out.lat


def from_gcj02(lng: float, lat: float, crs: CRS) -> tuple[float, float]:
    """Convert one stored GCJ-02 position to `crs`; returns (lng, lat)."""
    crs = CRS(crs)
    if crs is CRS.GCJ02:
        return lng, lat
    if crs is CRS.BD09:
        out = prcoords.gcj_bd((lat, lng))
        return out.lon, out.lat
    if not in_china(lng, lat):
        return lng, lat
    out = prcoords.gcj_wgs_bored((lat, lng), False)
    return out.lon, out.lat


def convert(lng: float, lat: float, source: CRS, target: CRS) -> tuple[float, float]:
    if CRS(source) is CRS(target):
        return lng, lat
    return from_gcj02(*to_gcj02(lng, lat, source), target)


# --- numpy -----------------------------------------------------------------------------


def _as_arrays(lngs: ArrayLike, lats: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = np.atleast_1d(np.asarray(lngs, dtype=np.float64))
    y = np.atleast_1d(np.asarray(lats, dtype=np.float64))
    if x.shape != y.shape:
        raise ValueError(f"lngs and lats differ in shape: {x.shape} != {y.shape}")
    return x, y


def in_china_array(lngs: FloatArray, lats: FloatArray) -> NDArray[np.bool_]:
    # The same box as prcoords.sanity_in_china_p.
    return (lats >= 0.8293) & (lats <= 55.8271) & (lngs >= 72.004) & (lngs <= 137.8347)


def _wgs_to_gcj_shift(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS-84 in degrees at a WGS-84 position (prcoords.wgs_gcj, unchecked)."""
    x = lng - 105.0
    y = lat - 35.0
    sin, pi = np.sin, np.pi
    d_lat_m = (-100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y
               + 0.2 * np.sqrt(np.abs(x)) + (
                   2 * sin(x * 6 * pi) + 2 * sin(x * 2 * pi)
                   + 2 * sin(y * pi) + 4 * sin(y / 3 * pi)
                   + 16 * sin(y / 12 * pi) + 32 * sin(y / 30 * pi)
               ) * 20 / 3)
    d_lon_m = (300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y
               + 0.1 * np.sqrt(np.abs(x)) + (
                   2 * sin(x * 6 * pi) + 2 * sin(x * 2 * pi)
                   + 2 * sin(x * pi) + 4 * sin(x / 3 * pi)
                   + 15 * sin(x / 12 * pi) + 30 * sin(x / 30 * pi)
               ) * 20 / 3)
    rad_lat = np.radians(lat)
    magic = 1 - prcoords.GCJ_EE * np.sin(rad_lat) ** 2
    lat_deg_arclen = np.radians((prcoords.GCJ_A * (1 - prcoords.GCJ_EE)) / magic**1.5)
    lon_deg_arclen = np.radians(prcoords.GCJ_A * np.cos(rad_lat) / np.sqrt(magic))
    return d_lon_m / lon_deg_arclen, d_lat_m / lat_deg_arclen


def _wgs_to_gcj(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lng, d_lat = _wgs_to_gcj_shift(lng, lat)
    return lng + d_lng, lat + d_lat


def _gcj_to_bd(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    r = np.sqrt(lng * lng + lat * lat) + 0.00002 * np.sin(np.radians(lat) * 3000)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(np.radians(lng) * 3000)
    return r * np.cos(theta) + prcoords.BD_DLON, r * np.sin(theta) + prcoords.BD_DLAT


def _bd_to_gcj_rough(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lng - prcoords.BD_DLON
    y = lat - prcoords.BD_DLAT
    r = np.sqrt(x * x + y * y) - 0.00002 * np.sin(np.radians(y) * 3000)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(np.radians(x) * 3000)
    return r * np.cos(theta), r * np.sin(theta)


def _gcj_to_wgs_rough(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lng, d_lat = _wgs_to_gcj_shift(lng, lat)
    return lng - d_lng, lat - d_lat


def _invert(
    forward: PlaneMap, rough: PlaneMap, lng: FloatArray, lat: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Fixed-point inverse, element by element as prcoords._bored does (Caijun 2014).

    Each element stops iterating once its own correction is below PRC_EPS, exactly like the
    scalar loop, so batch and scalar results agree to the last few ulps.
    """
    out_lng, out_lat = rough(lng, lat)
    active = np.ones(lng.shape, dtype=bool)
    for _ in range(10):
        if not active.any():
            break
        fx, fy = forward(out_lng[active], out_lat[active])
        d_lng = fx - lng[active]
        d_lat = fy - lat[active]
        out_lng[active] -= d_lng
        out_lat[active] -= d_lat
        still = np.hypot(d_lat, d_lng) > prcoords.PRC_EPS
        active[active] = still
    return out_lng, out_lat


def to_gcj02_array(lngs: ArrayLike, lats: ArrayLike, crs: CRS) -> tuple[FloatArray, FloatArray]:
    """Vectorised `to_gcj02`: arrays in, new float64 arrays (lngs, lats) out."""
    x, y = _as_arrays(lngs, lats)
    crs = CRS(crs)
    if crs is CRS.GCJ02:
        return x.copy(), y.copy()
    if crs is CRS.BD09:
        return _invert(_gcj_to_bd, _bd_to_gcj_rough, x, y)
    gx, gy = _wgs_to_gcj(x, y)
    china = in_china_array(x, y)
    return np.where(china, gx, x), np.where(china, gy, y)


def from_gcj02_array(
    lngs: ArrayLike, lats: ArrayLike, crs: CRS
) -> tuple[FloatArray, FloatArray]:
    """Vectorised `from_gcj02`: arrays in, new float64 arrays (lngs, lats) out."""
    x, y = _as_arrays(lngs, lats)
    crs = CRS(crs)
    if crs is CRS.GCJ02:
        return x.copy(), y.copy()
    if crs is CRS.BD09:
        return _gcj_to_bd(x, y)
    china = in_china_array(x, y)
    wx, wy = _invert(_wgs_to_gcj, _gcj_to_wgs_rough, x, y)
    return np.where(china, wx, x), np.where(china, wy, y)


# --- local metric plane ------------------------------------------------------------------

# Transverse Mercator centred on Dongcheng: metres, scale error < 1e-6 across the district.
# Applied to GCJ-02 lng/lat as if they were geographic: the GCJ offset is a near-constant
# shift of a few hundred metres, irrelevant to areas and distances inside the district.
LOCAL_METRIC_PROJ = (
    "+proj=tmerc +lat_0=39.91 +lon_0=116.41 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m"
)

METRES_PER_DEGREE_LAT = 111_320.0  # near enough anywhere, for sizing only

_transformers = threading.local()


def _local_metric_transformers() -> tuple[Transformer, Transformer]:
    # pyproj transformers must not be shared between threads.
    pair = getattr(_transformers, "pair", None)
    if pair is None:
        forward = Transformer.from_crs("EPSG:4326", LOCAL_METRIC_PROJ, always_xy=True)
        backward = Transformer.from_crs(LOCAL_METRIC_PROJ, "EPSG:4326", always_xy=True)
        pair = _transformers.pair = (forward, backward)
    return pair


def lnglat_to_local_metric(lngs: ArrayLike, lats: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, y = _local_metric_transformers()[0].transform(*_as_arrays(lngs, lats))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def local_metric_to_lnglat(xs: ArrayLike, ys: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lng, lat = _local_metric_transformers()[1].transform(*_as_arrays(xs, ys))
    return np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _transform_coords(function: PlaneMap, coords: FloatArray) -> FloatArray:
    a, b = function(coords[:, 0], coords[:, 1])
    return np.column_stack([a, b])


def geometry_to_local_metric(geometry: GeometryT) -> GeometryT:
    """Project lng/lat geometries (a shapely geometry or an array of them) to metres."""
    return shapely.transform(geometry, lambda c: _transform_coords(lnglat_to_local_metric, c))


def geometry_from_local_metric(geometry: GeometryT) -> GeometryT:
    return shapely.transform(geometry, lambda c: _transform_coords(local_metric_to_lnglat, c))


def geometry_to_gcj02(geometry: GeometryT, crs: CRS) -> GeometryT:
    """Convert every vertex of lng/lat geometries from `crs` to GCJ-02 (for storing)."""
    if CRS(crs) is CRS.GCJ02:
        return geometry
    return shapely.transform(
        geometry, lambda c: _transform_coords(lambda x, y: to_gcj02_array(x, y, crs), c))


def geometry_from_gcj02(geometry: GeometryT, crs: CRS) -> GeometryT:
    """Convert every vertex of stored GCJ-02 geometries to `crs` (for serving)."""
    if CRS(crs) is CRS.GCJ02:
        return geometry
    return shapely.transform(
        geometry, lambda c: _transform_coords(lambda x, y: from_gcj02_array(x, y, crs), c))
