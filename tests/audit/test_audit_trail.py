from sqlalchemy import select, text
from typer.testing import CliRunner

from gridgov.audit import service as audit
from gridgov.audit.models import AuditEvent
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.auth.policy import Role
from gridgov.cli import app, register_commands
from gridgov.config import get_settings
from tests.helpers import add_user, bearer, small_org


def _verify_cli(monkeypatch, database):
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", database.url)
    get_settings.cache_clear()
    register_commands()
    try:
        return CliRunner().invoke(app, ["audit", "verify"])
    finally:
        get_settings.cache_clear()


def test_every_change_is_recorded_with_actor_role_unit_and_request_id(client, database, settings):
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    headers = bearer(client, "admin1") | {"X-Request-ID": "req12345abc"}
    client.patch("/api/v1/units/S1", headers=headers, json={"name": "改名街道"})
    with database.read() as db:
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "unit.update"))
    assert (event.actor_name, event.role, event.object_id) == ("admin1", "admin", "S1")
    assert event.before["name"] == "S1街道" and event.after["name"] == "改名街道"
    assert event.request_id == "req12345abc"


def test_a_refused_change_writes_nothing_but_the_refusal(client, database, settings):
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    headers = bearer(client, "admin1")
    with database.read() as db:
        count = len(db.scalars(select(AuditEvent.seq)).all())
    response = client.post("/api/v1/units", headers=headers, json={
        "code": "S1", "name": "重复", "kind": "street", "parent_code": "DC", "valid_from": "2026-01-01"})
    assert response.status_code == 422
    with database.read() as db:
        assert len(db.scalars(select(AuditEvent.seq)).all()) == count


def test_audit_verify_names_the_row_edited_in_sql(monkeypatch, database):
    small_org(database)
    clean = _verify_cli(monkeypatch, database)
    assert clean.exit_code == 0, clean.output
    assert "审计链完整" in clean.output
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET reason = 'covered up' WHERE seq = 4"))
    tampered = _verify_cli(monkeypatch, database)
    assert tampered.exit_code == 1
    assert "#4" in tampered.output and "altered" in tampered.output


def test_audit_verify_names_a_deleted_row(monkeypatch, database):
    small_org(database)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    result = _verify_cli(monkeypatch, database)
    assert result.exit_code == 1 and "#3" in result.output and "deleted" in result.output


def test_chain_stays_whole_under_concurrent_writers(database):
    from concurrent.futures import ThreadPoolExecutor

    def write(i: int) -> None:
        with database.write() as db:
            audit.record(db, actor=SYSTEM_ACTOR, action="test.concurrent", object_type="t", object_id=i)
            db.commit()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(60)))
    with database.read() as db:
        report = audit.verify(db)
    assert report.intact and report.events_checked == 60


def test_the_audit_trail_is_readable_by_leaders_and_verifiable_by_admins(client, database, settings):
    small_org(database)
    add_user(database, settings, "admin1", Role.ADMIN, "DC")
    add_user(database, settings, "boss", Role.LEADER, "DC")
    leader = bearer(client, "boss")
    events = client.get("/api/v1/audit/events", headers=leader, params={"object_type": "unit"}).json()
    assert len(events) == 10 and events[0]["seq"] > events[-1]["seq"]
    assert client.get("/api/v1/audit/verify", headers=leader).status_code == 403
    status = client.get("/api/v1/audit/verify", headers=bearer(client, "admin1")).json()
    assert status["intact"] is True
