"""Tables of the web workbench itself (imported by `gridgov.all_models` like every feature's)."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base


class PublicRateWindow(Base):
    """How many public submissions of one kind one client address made in one clock hour.

    The address is kept only as a keyed hash (HMAC with the deployment's secret key), and
    rows of past hours are deleted as new ones are written (`gridgov.web.ratelimit`)."""

    __tablename__ = "public_rate_windows"
    __table_args__ = (Index("ix_public_rate_windows_window_start", "window_start"),)

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # report | rating
    client_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int]
