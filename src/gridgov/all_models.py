"""Imports every feature's models so that Base.metadata knows every table (for Alembic)."""

from gridgov.audit.models import AuditEvent
from gridgov.auth.models import ApiToken, User, UserRole
from gridgov.db import Base
from gridgov.org.models import Unit

__all__ = ["ApiToken", "AuditEvent", "Base", "Unit", "User", "UserRole"]
