"""Forms on pages: read the submitted fields, validate on the server, and keep each problem
next to the field it concerns (domain errors and pydantic errors alike)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, UploadFile
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from gridgov.errors import DomainError

GENERAL = "__all__"
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass
class FormState:
    """What the user typed, and what is wrong with it (field → message; GENERAL for the rest)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def message(self) -> str | None:
        return self.errors.get(GENERAL)

    def add(self, field_name: str | None, message: str) -> None:
        key = field_name or GENERAL
        self.errors[key] = f"{self.errors[key]}；{message}" if key in self.errors else message

    def add_domain_error(self, exc: DomainError) -> None:
        """A service's refusal: field problems go to their fields, the detail to the top."""
        for problem in exc.errors:
            self.add(str(problem.get("field") or "") or None, str(problem.get("message", "")))
        if GENERAL not in self.errors:
            self.add(None, exc.detail)


@dataclass
class SubmittedForm:
    fields: dict[str, str]
    files: dict[str, list[UploadFile]]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default).strip()

    def uploads(self, name: str) -> list[UploadFile]:
        """Files actually chosen under `name` (a browser sends an empty part when none is)."""
        return [f for f in self.files.get(name, []) if f.filename]


async def read_form(request: Request) -> SubmittedForm:
    form = await request.form()
    fields: dict[str, str] = {}
    files: dict[str, list[UploadFile]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields[key] = f"{fields[key]},{value}" if key in fields else value
        else:
            files.setdefault(key, []).append(value)
    return SubmittedForm(fields, files)


FormDep = Annotated[SubmittedForm, Depends(read_form)]


def validate(model: type[M], data: dict[str, Any], state: FormState) -> M | None:
    """`model` built from `data`, or None with every problem recorded in `state`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"])
            state.add(name or None, _message(error))
        return None


_MESSAGES = {
    "missing": "必填", "string_too_short": "内容太短", "string_too_long": "内容太长",
    "int_parsing": "应为整数", "float_parsing": "应为数字", "date_from_datetime_parsing": "日期格式不对",
    "date_parsing": "日期格式不对", "datetime_parsing": "时间格式不对", "enum": "不在可选范围内",
    "literal_error": "不在可选范围内", "greater_than_equal": "数值太小", "less_than_equal": "数值太大",
    "string_pattern_mismatch": "格式不对",
}


def _message(error: dict) -> str:
    return _MESSAGES.get(error["type"], error["msg"])


@contextmanager
def shown_on(form: FormState, db: Session) -> Iterator[None]:
    """Run a service call; a refusal rolls the session back and lands in `form` instead of
    escaping. Refused access (401/403 not yet audited) still escapes, to be audited and shown
    as an error page."""
    try:
        yield
    except DomainError as exc:
        if exc.status in (401, 403) and not exc.audited:
            raise
        db.rollback()
        form.add_domain_error(exc)


def attempt(state: FormState, db: Session, call: Callable[[], T]) -> tuple[T | None, int]:
    """A service call whose refusal is shown on the form: (its result, 200), or (None, the
    refusal's HTTP status) with the session rolled back and the problems in `state`."""
    status_code = 422
    with shown_on(state, db):
        try:
            return call(), 200
        except DomainError as exc:
            status_code = exc.status
            raise
    return None, status_code
