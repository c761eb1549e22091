"""User accounts, kept by administrators."""

from fastapi import APIRouter

from gridgov.auth import service
from gridgov.auth.api import user_out
from gridgov.auth.deps import Authorization, require
from gridgov.auth.policy import Action
from gridgov.auth.schemas import UserIn, UserOut, UserPatch
from gridgov.http import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/users", tags=["users 用户"])


@router.get("", response_model=list[UserOut])
def list_users(db: SessionDep, unit_code: str | None = None, auth: Authorization = require(Action.USER_MANAGE)) -> list[UserOut]:
    return [user_out(user) for user in service.list_users(db, unit_code=unit_code)]


@router.post("", response_model=UserOut, status_code=201)
def create_user(body: UserIn, db: SessionDep, settings: SettingsDep,
                auth: Authorization = require(Action.USER_MANAGE)) -> UserOut:
    return user_out(service.create_user(db, settings=settings, actor=auth.actor, data=body))


@router.get("/{username}", response_model=UserOut)
def get_user(username: str, db: SessionDep, auth: Authorization = require(Action.USER_MANAGE)) -> UserOut:
    return user_out(service.get_user(db, username=username))


@router.patch("/{username}", response_model=UserOut)
def update_user(username: str, body: UserPatch, db: SessionDep, settings: SettingsDep,
                auth: Authorization = require(Action.USER_MANAGE)) -> UserOut:
    return user_out(service.update_user(db, settings=settings, actor=auth.actor, username=username,
                                        patch=body))


@router.post("/{username}/unlock", response_model=UserOut)
def unlock_user(username: str, db: SessionDep, auth: Authorization = require(Action.USER_MANAGE)) -> UserOut:
    return user_out(service.unlock_user(db, actor=auth.actor, username=username))
