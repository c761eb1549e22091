"""Every feature's models, imported so that Base.metadata knows every table (for Alembic)."""

from gridgov.db import Base
from gridgov.features import import_all_models

import_all_models()

__all__ = ["Base"]
