"""The registry of reporting channels (监管渠道), with Dongcheng's 20+ as demo configuration."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.audit import service as audit
from gridgov.audit.rules import Actor
from gridgov.cases.models import Channel
from gridgov.errors import InvalidInput

# (code, name, requires_reference, public)
DEMO_CHANNELS: tuple[tuple[str, str, bool, bool], ...] = (
    ("hotline_12345", "12345市民服务热线", True, False),
    ("hotline_12319", "12319城建服务热线", True, False),
    ("hotline_96105", "96105城管热线", True, False),
    ("weibo", "政务微博", True, False),
    ("wechat", "政务微信公众号", True, False),
    ("media", "媒体曝光", True, False),
    ("public_opinion", "网络舆情监测", True, False),
    ("conduct_hotline", "政风行风热线", True, False),
    ("video", "视频监控智能发现", True, False),
    ("snapshot", "随手拍", True, True),
    ("micro_grid", "社区微网格", False, False),
    ("supervisor_patrol", "监督员巡查", False, False),
    ("lane_chief_patrol", "街巷长巡查", False, False),
    ("housekeeper_patrol", "小巷管家巡查", False, False),
    ("leader_assignment", "领导交办", True, False),
    ("website", "区政府网站", True, False),
    ("letters_visits", "信访", True, False),
    ("people_congress", "人大建议政协提案", True, False),
    ("special_inspection", "专项检查", False, False),
    ("enforcement_patrol", "执法巡查", False, False),
    ("property_report", "物业企业上报", False, False),
    ("environment_monitor", "环境监测预警", True, False),
)


def get_channel(db: Session, *, code: str) -> Channel:
    channel = db.get(Channel, code)
    if channel is None or not channel.active:
        raise InvalidInput(f"未知或已停用的渠道：{code}", errors=[{"field": "channel", "message": "未知渠道"}])
    return channel


def list_channels(db: Session, *, include_inactive: bool = False) -> Sequence[Channel]:
    query = select(Channel).order_by(Channel.code)
    if not include_inactive:
        query = query.where(Channel.active.is_(True))
    return db.scalars(query).all()


def upsert_channel(db: Session, *, actor: Actor, code: str, name: str, requires_reference: bool,
                   public: bool, active: bool = True, description: str | None = None) -> Channel:
    channel = db.get(Channel, code)
    before = None if channel is None else _snapshot(channel)
    if channel is None:
        channel = Channel(code=code)
        db.add(channel)
    channel.name, channel.requires_reference, channel.public = name, requires_reference, public
    channel.active, channel.description = active, description
    db.flush()
    audit.record(db, actor=actor, action="channel.upsert", object_type="channel", object_id=code,
                 before=before, after=_snapshot(channel))
    db.commit()
    return channel


def load_demo_channels(db: Session, *, actor: Actor) -> int:
    existing = set(db.scalars(select(Channel.code)))
    added = 0
    for code, name, requires_reference, public in DEMO_CHANNELS:
        if code not in existing:
            db.add(Channel(code=code, name=name, requires_reference=requires_reference, public=public,
                           active=True))
            added += 1
    audit.record(db, actor=actor, action="channel.load_demo", object_type="channel",
                 after={"added": added})
    db.commit()
    return added


def _snapshot(channel: Channel) -> dict:
    return {"name": channel.name, "requires_reference": channel.requires_reference,
            "public": channel.public, "active": channel.active}
