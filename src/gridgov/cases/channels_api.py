"""The registry of reporting channels: read by every signed-in user, kept by admins."""

from fastapi import APIRouter
from pydantic import BaseModel

from gridgov.auth.deps import Authorization, CurrentPrincipal, require
from gridgov.auth.policy import Action
from gridgov.cases import channels
from gridgov.http import SessionDep

router = APIRouter(prefix="/api/v1/channels", tags=["cases 案件"])


class ChannelOut(BaseModel):
    code: str
    name: str
    requires_reference: bool
    public: bool
    active: bool


class ChannelIn(BaseModel):
    name: str
    requires_reference: bool = True
    public: bool = False
    active: bool = True
    description: str | None = None


@router.get("", response_model=list[ChannelOut])
def list_channels(db: SessionDep, principal: CurrentPrincipal) -> list[ChannelOut]:
    return [ChannelOut.model_validate(c, from_attributes=True) for c in channels.list_channels(db)]


@router.put("/{code}", response_model=ChannelOut)
def upsert_channel(code: str, body: ChannelIn, db: SessionDep,
                   auth: Authorization = require(Action.CONFIG_MANAGE)) -> ChannelOut:
    channel = channels.upsert_channel(db, actor=auth.actor, code=code, **body.model_dump())
    return ChannelOut.model_validate(channel, from_attributes=True)
