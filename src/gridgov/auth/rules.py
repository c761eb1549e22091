"""Pure rules of sign-in: lock-out, token life, passwords, usernames, role placement."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gridgov.auth.policy import ROLE_UNIT_KINDS, Role
from gridgov.org.rules import UnitKind


class TokenKind(StrEnum):
    ACCESS = "access"  # bearer token from a sign-in; expires
    INTEGRATION = "integration"  # issued by an admin to a channel or system; revocable
    WEB = "web"  # a browser session cookie, with its CSRF token


TOKEN_PREFIX = {TokenKind.ACCESS: "gga_", TokenKind.INTEGRATION: "ggi_", TokenKind.WEB: "ggw_"}


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int
    duration: timedelta

    def after_failure(self, failed_so_far: int, now: datetime) -> tuple[int, datetime | None]:
        """The new failure count and, once the threshold is reached, the lock's end."""
        failed = failed_so_far + 1
        return failed, (now + self.duration if failed >= self.threshold else None)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def token_usable(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and (expires_at is None or now < expires_at)


MIN_PASSWORD_LENGTH = 10


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少 {MIN_PASSWORD_LENGTH} 位"
    if not any(ch.isalpha() for ch in password) or not any(ch.isdigit() for ch in password):
        return "密码须同时包含字母和数字"
    return None


def username_problem(username: str) -> str | None:
    if not 3 <= len(username) <= 64:
        return "用户名长度应为 3–64 个字符"
    if not all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in username):
        return "用户名只能包含字母、数字和 . _ -"
    return None


def roles_problem(roles: Iterable[Role], unit_kind: UnitKind) -> str | None:
    roles = list(roles)
    if not roles:
        return "至少要有一个角色"
    misplaced = [r for r in roles if unit_kind not in ROLE_UNIT_KINDS[r]]
    if misplaced:
        names = "、".join(r.label for r in misplaced)
        return f"{unit_kind.label}的人员不能担任：{names}"
    return None
