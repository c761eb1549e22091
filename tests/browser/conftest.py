"""Browser tests: real headless Chromium (Debian's package) driven by playwright against a
gridgov served on a free localhost port, on SQLite with the Dongcheng demo loaded.

Both clocks are pinned to the same start (a Tuesday, 10:00 in Beijing) and then run: the
server's through gridgov.clock, the browser's through playwright's clock. Deadlines are then
the same on every run, whatever the real date. All browser tests share one server, so they
run in one xdist group; each test makes its own cases.
"""

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx2
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from gridgov import clock, migrate
from gridgov.app import create_app
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.cases.channels import load_demo_channels
from gridgov.catalog.demo import load_demo_catalog
from gridgov.config import Settings
from gridgov.db import Database
from gridgov.demo import loader
from gridgov.grid.demo import load_demo_grid
from gridgov.whistle.demo import load_demo_situations
from tests.cases.conftest import START

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PHONE, COMMAND_CENTRE = 375, 1920
# The whole suite saturates both cores while these run: give pages and assertions the same
# patience (playwright's expect otherwise gives up after 5 s).
PATIENCE_MS = 15_000
expect.set_options(timeout=PATIENCE_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


class RunningClock:
    """START plus the real time elapsed since the server started."""

    def __init__(self, start: datetime):
        self.start, self.origin = start, time.monotonic()

    def __call__(self) -> datetime:
        from datetime import timedelta
        return self.start + timedelta(seconds=time.monotonic() - self.origin)


@dataclass
class LiveServer:
    url: str
    database: Database
    settings: Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("live")
    settings = Settings(data_dir=data_dir, secret_key="browser-test-secret",
                        password_hash_profile="fast-for-tests", log_json=False, log_level="WARNING",
                        public_reports_per_hour=1000, dashboard_max_age_seconds=0)
    database = Database(settings.resolved_database_url)
    migrate.upgrade(database.engine)
    with database.write() as db:
        loader.load_demo_organisation(db)
    for load in (load_demo_grid, load_demo_catalog, load_demo_channels, load_demo_situations):
        with database.write() as db:
            load(db, actor=SYSTEM_ACTOR)
    with database.write() as db:
        loader.load_demo_accounts(db, settings=settings)

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(clock, "utcnow", RunningClock(START))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, database), host="127.0.0.1", port=port,
                                           log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", database, settings)
    server.should_exit = True
    thread.join(timeout=10)
    monkeypatch.undo()
    database.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer):
    """`new_page(width=1280)` → a page in a fresh context (its own cookies), clock at START."""
    contexts = []

    def open_page(width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                      timezone_id="Asia/Shanghai",
                                      viewport={"width": width, "height": height})
        context.clock.install(time=START)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(PATIENCE_MS)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


def sign_in(page: Page, username: str) -> None:
    """Sign in through the sign-in page as a demo account."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(loader.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def screenshots(page: Page, name: str) -> None:
    """The page as it is, at a phone's width and at a command-centre screen's, in var/screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for width, height in ((PHONE, 812), (COMMAND_CENTRE, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size(original)


def api_as(live_server: LiveServer, username: str) -> httpx2.Client:
    """An API client of the live server signed in as a demo account (for setting the scene)."""
    client = httpx2.Client(base_url=live_server.url, timeout=30)
    response = client.post("/api/v1/auth/token",
                           json={"username": username, "password": loader.DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client
