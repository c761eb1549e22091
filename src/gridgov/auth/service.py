"""Accounts, sign-in, tokens and sessions. Every change is audited in its own transaction."""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from gridgov.audit import service as audit
from gridgov.audit.rules import ANONYMOUS_ACTOR, Actor
from gridgov.auth import passwords
from gridgov.auth.models import ApiToken, User, UserRole
from gridgov.auth.policy import Principal, Role, UnitRef
from gridgov.auth.rules import (
    TOKEN_PREFIX, LockoutPolicy, TokenKind, is_locked, password_problem, roles_problem,
    token_usable, username_problem,
)
from gridgov.auth.schemas import UserIn, UserPatch
from gridgov.clock import utcnow
from gridgov.config import Settings
from gridgov.errors import AccountLocked, Conflict, InvalidInput, NotAuthenticated, NotFound
from gridgov.org import service as org
from gridgov.org.models import Unit
from gridgov.org.rules import UnitKind


def actor_for(user: User, role: Role | None) -> Actor:
    return Actor(id=user.id, name=user.username, role=role, unit_id=user.unit_id)


def principal_for(db: Session, user: User) -> Principal:
    unit = user.unit
    return Principal(user_id=user.id, username=user.username, roles=user.roles,
                     unit=org.unit_ref(db, unit_id=unit.id, kind=unit.kind, path=unit.path))


def user_snapshot(user: User) -> dict:
    return {"username": user.username, "display_name": user.display_name,
            "unit_id": user.unit_id, "roles": sorted(user.roles), "active": user.active}


def get_user(db: Session, *, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    return user


def list_users(db: Session, *, unit_code: str | None = None) -> Sequence[User]:
    query = select(User).order_by(User.username)
    if unit_code is not None:
        query = query.where(User.unit_id == org.get_unit(db, code=unit_code).id)
    return db.scalars(query).all()


def _field_problems(**checks: str | None) -> list[dict]:
    return [{"field": field, "message": message} for field, message in checks.items() if message]


def create_user(db: Session, *, settings: Settings, actor: Actor, data: UserIn) -> User:
    unit = org.get_unit(db, code=data.unit_code)
    problems = _field_problems(
        username=username_problem(data.username), password=password_problem(data.password),
        roles=roles_problem(data.roles, UnitKind(unit.kind)),
    )
    if problems:
        raise InvalidInput("用户信息不符合要求", errors=problems)
    if db.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"用户名 {data.username} 已被使用")
    user = User(
        username=data.username, display_name=data.display_name, phone=data.phone, unit_id=unit.id,
        password_hash=passwords.hash_password(data.password, profile=settings.password_hash_profile),
        role_rows=[UserRole(role=role) for role in sorted(set(data.roles))],
    )
    db.add(user)
    db.flush()
    db.refresh(user)
    audit.record(db, actor=actor, action="user.create", object_type="user", object_id=user.username,
                 after=user_snapshot(user))
    db.commit()
    return user


def update_user(db: Session, *, settings: Settings, actor: Actor, username: str, patch: UserPatch) -> User:
    user = get_user(db, username=username)
    before = user_snapshot(user)
    changes = patch.model_dump(exclude_unset=True)
    problems = _field_problems(
        password=password_problem(patch.password) if patch.password else None,
        roles=roles_problem(patch.roles, UnitKind(user.unit.kind)) if patch.roles else None,
    )
    if problems:
        raise InvalidInput("用户信息不符合要求", errors=problems)
    if patch.roles is not None:
        user.role_rows = [UserRole(role=role) for role in sorted(set(patch.roles))]
    if patch.password is not None:
        user.password_hash = passwords.hash_password(patch.password, profile=settings.password_hash_profile)
        _revoke_all(db, user)
    for name in ("display_name", "phone", "active"):
        if name in changes:
            setattr(user, name, changes[name])
    if patch.active is False:
        _revoke_all(db, user)
    db.flush()
    audit.record(db, actor=actor, action="user.update", object_type="user", object_id=user.username,
                 before=before, after=user_snapshot(user) | {"password_changed": patch.password is not None})
    db.commit()
    return user


def unlock_user(db: Session, *, actor: Actor, username: str) -> User:
    user = get_user(db, username=username)
    before = {"failed_logins": user.failed_logins, "locked_until": user.locked_until}
    user.failed_logins, user.locked_until = 0, None
    audit.record(db, actor=actor, action="user.unlock", object_type="user", object_id=username,
                 before=before)
    db.commit()
    return user


def authenticate(db: Session, *, settings: Settings, username: str, password: str) -> User:
    """The user whose password this is; every failure is counted, audited and committed."""
    now = utcnow()
    user = db.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        passwords.hash_password(password, profile=settings.password_hash_profile)  # even timing
        _refuse(db, actor=ANONYMOUS_ACTOR, username=username, reason="unknown or inactive user")
        raise NotAuthenticated("用户名或密码错误", audited=True)
    actor = actor_for(user, None)
    if is_locked(user.locked_until, now):
        _refuse(db, actor=actor, username=username, reason="account locked")
        raise AccountLocked(f"连续登录失败次数过多，账号已锁定至 "
                            f"{user.locked_until.astimezone(settings.tz):%H:%M}",
                            audited=True)
    profile = settings.password_hash_profile
    if not passwords.verify_password(user.password_hash, password, profile=profile):
        policy = LockoutPolicy(settings.lockout_threshold, timedelta(minutes=settings.lockout_minutes))
        user.failed_logins, user.locked_until = policy.after_failure(user.failed_logins, now)
        _refuse(db, actor=actor, username=username, reason="wrong password",
                after={"failed_logins": user.failed_logins, "locked_until": user.locked_until})
        raise NotAuthenticated("用户名或密码错误", audited=True)
    if passwords.needs_rehash(user.password_hash, profile=profile):
        user.password_hash = passwords.hash_password(password, profile=profile)
    user.failed_logins, user.locked_until = 0, None
    audit.record(db, actor=actor, action="auth.login", object_type="user", object_id=username)
    db.commit()
    return user


def _refuse(db: Session, *, actor: Actor, username: str, reason: str, after: dict | None = None) -> None:
    audit.record(db, actor=actor, action="auth.login_failed", object_type="user",
                 object_id=username, reason=reason, after=after)
    db.commit()


def _digest(settings: Settings, token: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def issue_token(
    db: Session, *, settings: Settings, actor: Actor, user: User, kind: TokenKind,
    lifetime: timedelta | None, label: str | None = None,
) -> tuple[str, ApiToken]:
    """A new token (returned in clear once) and its stored record; committed with its event."""
    token = TOKEN_PREFIX[kind] + secrets.token_urlsafe(32)
    record = ApiToken(
        digest=_digest(settings, token), kind=kind, user_id=user.id, label=label,
        csrf_token=secrets.token_urlsafe(24) if kind is TokenKind.WEB else None,
        expires_at=utcnow() + lifetime if lifetime else None,
    )
    db.add(record)
    db.flush()
    audit.record(db, actor=actor, action=f"token.issue.{kind}", object_type="token",
                 object_id=record.id, after={"user": user.username, "label": label,
                                             "expires_at": record.expires_at})
    db.commit()
    return token, record


@dataclass(frozen=True)
class Caller:
    """Who presented a live token: the principal it stands for, the token (its id, kind and,
    for web sessions, CSRF token), and the names a page shows of the user and their unit."""

    principal: Principal
    token_id: int
    kind: TokenKind
    csrf_token: str | None
    display_name: str
    unit_code: str
    unit_name: str


# Every request resolves its caller: the statement is built once (building it is most of its cost).
_CALLER = (
    select(ApiToken.id, ApiToken.kind, ApiToken.csrf_token, ApiToken.expires_at, ApiToken.revoked_at,
           User.id.label("user_id"), User.username, User.display_name, User.active,
           Unit.id.label("unit_id"), Unit.kind.label("unit_kind"), Unit.path, Unit.code.label("unit_code"),
           Unit.name.label("unit_name"),
           select(func.aggregate_strings(UserRole.role, ",")).where(UserRole.user_id == User.id)
           .scalar_subquery().label("roles"),
           org.ancestor_id(Unit.path, UnitKind.STREET).label("street_id"),
           org.ancestor_id(Unit.path, UnitKind.COMMUNITY).label("community_id"))
    .join(User, User.id == ApiToken.user_id).join(Unit, Unit.id == User.unit_id)
    .where(ApiToken.digest == bindparam("digest"))
)


def resolve_caller(db: Session, *, settings: Settings, token: str, kinds: set[TokenKind]) -> Caller:
    """The caller behind a presented token, or NotAuthenticated. One query of columns, not
    entities: the token, its user and unit, the user's roles and the street and community the
    unit belongs to."""
    row = db.execute(_CALLER, {"digest": _digest(settings, token)}).first()
    if row is None or TokenKind(row.kind) not in kinds:
        raise NotAuthenticated("凭证无效")
    if not token_usable(row.expires_at, row.revoked_at, utcnow()):
        raise NotAuthenticated("凭证已过期或已撤销，请重新登录")
    if not row.active:
        raise NotAuthenticated("账号已停用")
    roles = frozenset(Role(role) for role in (row.roles or "").split(",") if role)
    unit = UnitRef(id=row.unit_id, kind=UnitKind(row.unit_kind), path=row.path, street_id=row.street_id,
                   community_id=row.community_id)
    return Caller(Principal(user_id=row.user_id, username=row.username, roles=roles, unit=unit),
                  token_id=row.id, kind=TokenKind(row.kind), csrf_token=row.csrf_token,
                  display_name=row.display_name, unit_code=row.unit_code, unit_name=row.unit_name)


def revoke_token(db: Session, *, actor: Actor, token_id: int) -> ApiToken:
    record = db.get(ApiToken, token_id)
    if record is None:
        raise NotFound(f"凭证 {token_id} 不存在")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record(db, actor=actor, action=f"token.revoke.{record.kind}", object_type="token",
                     object_id=record.id, after={"user": record.user.username, "label": record.label})
        db.commit()
    return record


def list_integration_tokens(db: Session) -> Sequence[ApiToken]:
    return db.scalars(
        select(ApiToken).where(ApiToken.kind == TokenKind.INTEGRATION).order_by(ApiToken.id)
    ).all()


def _revoke_all(db: Session, user: User) -> None:
    now = utcnow()
    for record in db.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        record.revoked_at = now
