"""Page tests through the ASGI app (both backends): the Dongcheng world of the case tests,
a frozen clock, and clients signed in through the sign-in page like a browser. Pages touch
every feature, so after each test every feature's rows are emptied, children first."""

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.db import Database
from gridgov.demo.loader import DEMO_PASSWORD
from gridgov.web.models import PublicRateWindow
from tests.assessment.tables import FEATURE_TABLES
from tests.cases.conftest import CASE_TABLES, FrozenClock, api, frozen, world_database, world_settings  # noqa: F401
from tests.whistle.conftest import WHISTLE_TABLES, whistle_database, whistle_world  # noqa: F401


@pytest.fixture
def world(world_database: Database) -> Iterator[Database]:  # noqa: F811 - replaces the imported one
    yield world_database
    with world_database.engine.begin() as conn:
        for model in (*WHISTLE_TABLES, *FEATURE_TABLES, *CASE_TABLES, PublicRateWindow):
            conn.execute(delete(model))


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


class PageClient:
    """A signed-in browser stand-in: keeps the session cookie and sends the CSRF token."""

    def __init__(self, client: TestClient, csrf_token: str):
        self.client = client
        self.csrf_token = csrf_token

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, htmx: bool = False, **kwargs):
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(url, data={"csrf_token": self.csrf_token, **(data or {})},
                                headers=headers, **kwargs)


def csrf_of(html: str) -> str:
    match = CSRF_META.search(html)
    assert match and match.group(1), "the page carries no CSRF token"
    return match.group(1)


@pytest.fixture
def pages(world: Database, world_settings: Settings, frozen: FrozenClock) -> Iterator[Callable[[str], PageClient]]:
    """`pages("dispatcher")` → a client signed in as that demo account."""
    opened: list[TestClient] = []

    def signed_in(username: str) -> PageClient:
        client = TestClient(create_app(world_settings, world))
        opened.append(client.__enter__())
        response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.text
        return PageClient(client, csrf_of(response.text))

    yield signed_in
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def anonymous(world: Database, world_settings: Settings, frozen: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(world_settings, world)) as client:
        yield client
