"""At most `settings.public_reports_per_hour` public submissions per client address and clock
hour, for each kind of submission (a 随手拍 report, a rating).

Counted in the database (`public_rate_windows`), so the limit holds across server processes
and restarts: taking a slot is one atomic upsert that raises the hour's count only while it
is below the limit, and refuses otherwise. Rows of past hours are deleted on the way. The
address is stored only as an HMAC keyed with the deployment's secret.

The address is the request's client as the ASGI server reports it. Behind a reverse proxy,
run uvicorn with `--proxy-headers --forwarded-allow-ips=<the proxy's address>`, or every
visitor shares the proxy's address (and its limit).
"""

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from fastapi import Request
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gridgov import clock
from gridgov.config import Settings
from gridgov.web.models import PublicRateWindow

WINDOW = timedelta(hours=1)


class Submission(StrEnum):
    REPORT = "report"
    RATING = "rating"

    @property
    def label(self) -> str:
        return {"report": "随手拍上报", "rating": "评价"}[self.value]


@dataclass(frozen=True)
class Refusal:
    """Over the limit: how many were allowed, and when the next hour begins."""

    submission: Submission
    limit: int
    until: datetime
    retry_after_seconds: int


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def client_key(settings: Settings, address: str) -> str:
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()


def take(db: Session, *, settings: Settings, submission: Submission, address: str) -> Refusal | None:
    """Count one submission from `address` this hour (committed at once), or the refusal."""
    now = clock.utcnow()
    start = now.replace(minute=0, second=0, microsecond=0)
    limit = settings.public_reports_per_hour
    row = PublicRateWindow
    db.execute(delete(row).where(row.window_start < start))
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(row).values(
        scope=submission.value, client_key=client_key(settings, address), window_start=start, count=1,
    ).on_conflict_do_update(
        index_elements=[row.scope, row.client_key, row.window_start],
        set_={"count": row.count + 1}, where=row.count < limit,
    ).returning(row.count)
    taken = db.execute(statement).scalar_one_or_none()
    db.commit()
    if taken is not None:
        return None
    until = start + WINDOW
    return Refusal(submission, limit, until, math.ceil((until - now).total_seconds()))
