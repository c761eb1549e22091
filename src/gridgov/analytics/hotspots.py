"""Hot-spot unit grids: Getis-Ord Gi* (esda) over case counts per unit grid, neighbours by
Queen contiguity of the grid polygons (libpysal).

A grid is a hot spot when its Gi* z-score is positive and its two-sided p-value from the
normal approximation is below alpha (the classes 90/95/99 % as in GIS hot-spot analysis).
The permutation pseudo p-value (conditional randomisation, `permutations`, fixed seed) is
reported beside it but not judged on: esda folds it, so with many grids at zero (ties) a grid
no different from its random neighbourhoods can still get a small p_sim.

The spatial weights are built once per grid revision, process and area (the district, or one
street for a street's users) and reused; a request is one GROUP BY over the cases plus the
statistic (≈ 0.5 s for 2,322 grids with 999 permutations). esda and libpysal are imported on
first use: they take a few seconds to import and most processes never need them.
"""

import threading
import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.analytics.rules import HotSpotClass, check_range, classify
from gridgov.analytics.service import local_range, today
from gridgov.auth.policy import Principal
from gridgov.cases import queries
from gridgov.cases.models import Case
from gridgov.config import Settings
from gridgov.db import database_key
from gridgov.grid import service as grid
from gridgov.grid.rules import GridLevel
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind

_weights: dict[tuple[str, str | None, str], tuple[list[str], object]] = {}
_lock = threading.Lock()
SEED = 12345  # permutation p-values are reproducible


@dataclass(frozen=True)
class HotSpot:
    unit_grid_code: str
    community_code: str
    street_code: str
    count: int
    z: float
    p_value: float  # two-sided, from z (normal approximation): what the class is judged on
    p_sim: float | None  # esda's folded permutation pseudo p-value, for reference
    hot_spot: HotSpotClass


@dataclass(frozen=True)
class HotSpotResult:
    start: date
    end: date
    grids: int
    cases: int
    mean: float
    permutations: int
    alpha: float
    hot: list[HotSpot]
    cold: int


def _scope_prefix(db: Session, principal: Principal) -> str:
    """'' for the district, the street's code (the first 9 digits of its unit grid codes) otherwise."""
    if principal.unit.kind is UnitKind.DISTRICT_CENTRE or principal.unit.street_id is None:
        return ""
    return db.scalar(select(Unit.code).where(Unit.id == principal.unit.street_id)) or ""


def queen_weights(db: Session, prefix: str = "") -> tuple[list[str], object]:
    """(unit grid codes in order, their binary Queen-contiguity weights), cached per grid revision."""
    key = (database_key(db), grid.revision_token(db), prefix)
    cached = _weights.get(key)
    if cached is not None:
        return cached
    with _lock:
        if key not in _weights:
            from libpysal.weights import Queen  # noqa: PLC0415 - slow import, first use only

            cells = [c for c in grid.list_cells(db, level=GridLevel.UNIT) if c.code.startswith(prefix)]
            codes = [c.code for c in cells]
            weights = Queen.from_iterable([grid.cell_polygon(c) for c in cells], ids=codes, silence_warnings=True)
            for stale in [k for k in _weights if k[0] == key[0] and k[1] != key[1]]:
                del _weights[stale]
            _weights[key] = (codes, weights)
        return _weights[key]


def hot_spots(db: Session, *, settings: Settings, principal: Principal, start: date, end: date,
              type_code: str | None = None, domain: str | None = None, alpha: float = 0.05,
              permutations: int = 999, limit: int = 200) -> HotSpotResult:
    """Unit grids where cases cluster significantly (Gi* z > 0, p < alpha), most significant first."""
    from esda.getisord import G_Local  # noqa: PLC0415 - slow import, first use only

    check_range(start, end, today=today(settings))
    begin, finish = local_range(start, end, settings)
    codes, weights = queen_weights(db, _scope_prefix(db, principal))
    query = (select(Case.unit_grid_code, func.count()).where(
        queries.visible(principal), Case.reported_at >= begin, Case.reported_at < finish,
        Case.status.not_in(("merged", "rejected"))).group_by(Case.unit_grid_code))
    if type_code:
        query = query.where(Case.type_code == type_code)
    if domain:
        query = query.where(Case.domain == domain)
    counts = dict(db.execute(query).all())
    y = np.array([counts.get(code, 0) for code in codes], dtype=float)
    total = int(y.sum())
    if total == 0 or len(codes) < 3:
        return HotSpotResult(start, end, len(codes), total, 0.0, permutations, alpha, [], 0)
    with warnings.catch_warnings():  # esda's notices about future defaults
        warnings.simplefilter("ignore", DeprecationWarning)
        statistic = G_Local(y, weights, transform="B", star=True, permutations=permutations, seed=SEED,
                            keep_simulations=False, n_jobs=1)
    p_sim = statistic.p_sim if permutations else None
    p_two_sided = np.minimum(2 * statistic.p_norm, 1.0)  # esda's p_norm is one-tailed
    hot, cold = [], 0
    for i, code in enumerate(codes):
        z, p = float(statistic.Zs[i]), float(p_two_sided[i])
        if np.isnan(z) or p >= alpha:
            continue
        if z < 0:
            cold += 1
            continue
        hot.append(HotSpot(code, code[:12], code[:9], int(y[i]), round(z, 4), p,
                           None if p_sim is None else float(p_sim[i]), classify(z, p)))
    hot.sort(key=lambda h: (-h.z, h.unit_grid_code))
    return HotSpotResult(start, end, len(codes), total, round(total / len(codes), 4), permutations, alpha,
                         hot[:limit], cold)
