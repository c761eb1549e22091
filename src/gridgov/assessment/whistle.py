"""The whistle module's indicators, from `gridgov.whistle.assessment.whistle_scores`.

Departments: 报到响应度 (the average responsiveness of assessed summons, 0–100) and 街道评价
(the streets' four ratings, 1–5, as 0–100: 1 → 0, 5 → 100). A department's field units are
summoned in their own name: their figures are combined with the department's, weighted by
assessed (rated) summons. Streets: 吹哨闭环率 (whistles closed / started × 100).
Without the whistle module the indicators are not applicable and stay out of every composite.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.org.models import Unit


def _top(path: str) -> int | None:
    parts = [p for p in path.strip("/").split("/") if p]
    return int(parts[1]) if len(parts) >= 2 else None


def whistle_figures(db: Session, *, start: datetime, end: datetime) -> dict[int, dict[str, tuple]] | None:
    """{assessed unit id: {indicator: (count, value 0–100 or None)}}; None without the whistle module."""
    try:
        from gridgov.whistle.assessment import whistle_scores  # noqa: PLC0415
        from gridgov.whistle.rules import rating_as_marks  # noqa: PLC0415
    except ImportError:
        return None
    scores = whistle_scores(db, start=start, end=end)
    if not scores:
        return {}
    paths = dict(db.execute(select(Unit.id, Unit.path).where(Unit.id.in_(list(scores)))).all())
    sums: dict[int, dict[str, list]] = {}
    for unit_id, s in scores.items():
        top = _top(paths.get(unit_id, ""))
        if top is None:
            continue
        acc = sums.setdefault(top, {"resp": [0, Decimal(0)], "rate": [0, Decimal(0)], "street": [0, 0]})
        if s.role == "street":
            acc["street"][0] += s.whistles
            acc["street"][1] += s.closed
            continue
        if s.responsiveness is not None and s.assessed:
            acc["resp"][0] += s.assessed
            acc["resp"][1] += Decimal(str(s.responsiveness)) * s.assessed
        if s.rating_average is not None and s.rated:
            acc["rate"][0] += s.rated
            acc["rate"][1] += rating_as_marks(Decimal(str(s.rating_average))) * s.rated
    out: dict[int, dict[str, tuple]] = {}
    for top, acc in sums.items():
        (n_resp, resp), (n_rate, rate), (started, closed) = acc["resp"], acc["rate"], acc["street"]
        out[top] = {
            "whistle_response": (n_resp, (resp / n_resp).quantize(Decimal("0.01")) if n_resp else None),
            "whistle_rating": (n_rate, (rate / n_rate).quantize(Decimal("0.01")) if n_rate else None),
            "whistle_closure": (started, (Decimal(100) * closed / started).quantize(Decimal("0.01"))
                                if started else None),
        }
    return out
