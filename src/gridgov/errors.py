"""Domain errors. Raised by rules and services; mapped to RFC 9457 problem+json in one place (web.problems)."""

from typing import Any


class DomainError(Exception):
    """Base of every error a user can cause. `status` is the HTTP status it maps to."""

    status = 400
    code = "bad-request"
    title = "请求无效"

    def __init__(
        self, detail: str, *, errors: list[dict[str, Any]] | None = None, audited: bool = False,
        **extra: Any,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.audited = audited  # the refusal is already in the audit trail
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    code = "invalid-input"
    title = "输入不符合要求"


class NotAuthenticated(DomainError):
    status = 401
    code = "not-authenticated"
    title = "未登录或凭证无效"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"
    title = "无权执行此操作"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "对象不存在"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "与当前状态冲突"


class AccountLocked(DomainError):
    status = 403
    code = "account-locked"
    title = "账号已锁定"


class IllegalTransition(Conflict):
    """A workflow step that the object's current state does not allow."""

    code = "illegal-transition"
    title = "当前状态不允许此操作"


class StaleVersion(Conflict):
    """The caller acted on a version of the object that someone else has since changed."""

    code = "stale-version"
    title = "对象已被他人更新"
