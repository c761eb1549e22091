"""Builders for case tests: sign in demo accounts, report, move cases, upload photos."""

import io

from fastapi.testclient import TestClient
from sqlalchemy import select

from gridgov.auth import service as auth
from gridgov.auth.models import User
from gridgov.cases import intake
from gridgov.cases.schemas import ReportIn
from gridgov.db import Database
from gridgov.demo.loader import DEMO_PASSWORD
from gridgov.demo.photos import demo_photo

DONGHUAMEN = (116.4035, 39.9135)  # a point in 东华门街道 (GCJ-02)
ILLEGAL_STRUCTURE = "E010101"  # 私搭乱建: duty matrix → the 城管执法队 serving the street
EXPOSED_GARBAGE = "E010201"  # 暴露垃圾 → 环卫中心


def sign_in(api: TestClient, username: str) -> dict[str, str]:
    response = api.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def report(api: TestClient, headers: dict, *, ref: str = "GD-1", point=DONGHUAMEN, **extra) -> dict:
    body = {"channel": "hotline_12345", "channel_ref": ref, "description": "胡同口有人私搭乱建彩钢房",
            "lng": point[0], "lat": point[1], "reporter_name": "张三丰", "reporter_phone": "13812345678",
            **extra}
    response = api.post("/api/v1/cases", headers=headers, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()["case"]


def move(api: TestClient, headers: dict, case: dict, name: str, expect: int = 200, **fields) -> dict:
    response = api.post(f"/api/v1/cases/{case['id']}/transitions/{name}", headers=headers,
                        json={"version": case["version"], **fields})
    assert response.status_code == expect, response.text
    return response.json() if expect == 200 else case


def png() -> bytes:
    """A real 1×1 PNG."""
    return demo_photo(0, width=1, height=1)


def upload(api: TestClient, headers: dict, case: dict, kind: str, content: bytes | None = None) -> int:
    response = api.post(f"/api/v1/cases/{case['id']}/attachments", headers=headers, data={"kind": kind},
                        files={"file": ("photo.png", io.BytesIO(content or png()), "image/png")})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def placed(world: Database, ref: str, *, username: str = "intake") -> intake.Placed:
    """A 12345 report at 东华门, checked and located by `username`, not yet written."""
    with world.read() as db:
        actor = auth.actor_for(db.scalar(select(User).where(User.username == username)), None)
        return intake.place_report(db, actor=actor, data=ReportIn(
            channel="hotline_12345", channel_ref=ref, description="道路不洁", lng=DONGHUAMEN[0],
            lat=DONGHUAMEN[1], reporter_name="张三", reporter_phone="13800000000"))
