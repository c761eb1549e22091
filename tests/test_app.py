from fastapi.testclient import TestClient

from gridgov.app import create_app
from gridgov.db import Database


def test_health_and_readiness(client):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    assert "/api/v1/units" in client.get("/openapi.json").json()["paths"]


def test_unknown_path_is_a_problem_json_with_a_request_id(client):
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and body["request_id"] == response.headers["x-request-id"]


def test_invalid_body_lists_every_field(client, database):
    response = client.post("/api/v1/auth/token", json={"username": ""})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"username", "password"}


def test_a_sane_incoming_request_id_is_kept_and_a_wild_one_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc123def456"}).headers["x-request-id"] == "abc123def456"
    assert client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["x-request-id"] != "<script>"


def test_the_root_leads_a_visitor_to_sign_in(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_server_starts_on_a_database_not_yet_migrated(tmp_path, settings):
    empty = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with TestClient(create_app(settings, empty)) as client:
        assert client.get("/healthz").json()["status"] == "ok"
    empty.dispose()


def test_a_database_that_cannot_be_reached_is_a_503_problem_to_retry(tmp_path, settings):
    unreachable = Database("postgresql+psycopg://postgres@127.0.0.1:1/gridgov?connect_timeout=2")
    with TestClient(create_app(settings, unreachable)) as client:
        response = client.post("/api/v1/auth/token", json={"username": "intake", "password": "Dongcheng2026"})
    unreachable.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"] == "urn:gridgov:problem:database-unavailable"
