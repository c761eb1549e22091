"""What the admin page tests check after a post: the audit events it wrote, and where a
field's error is shown."""

import re
import uuid
from io import BytesIO

from openpyxl import Workbook
from sqlalchemy import func, select

from gridgov.audit.models import AuditEvent
from gridgov.db import Database


def events(database: Database, action: str, object_id: str | None = None) -> int:
    """How many audit events of `action` (on `object_id`) there are."""
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    with database.read() as db:
        return db.scalar(query) or 0


def all_events(database: Database) -> int:
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


def error_of(html: str, field: str) -> str:
    """The error shown next to `field` (its `<p class="field-error" id="FIELD-error">`)."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', html)
    assert match, f"no error shown next to {field}"
    return match.group(1)


def unique(prefix: str) -> str:
    """A fresh name: the page tests share one database per backend."""
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def workbook(headers: list[str], *rows: list) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
