"""A live server and the system Chromium, with axe-core run on every page visited."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.database import app_config, empty_all_tables, migrate_database, unavailable

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 800), "narrow": (320, 640)}
DEFAULT_VIEWPORTS = ["phone", "desktop"]  # "narrow" (320 px reflow) is asked for by name
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        unavailable("browser", f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        unavailable("browser", f"playwright is not installed: {error}")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:
        playwright.stop()
        unavailable("browser", f"Chromium did not start: {error}")
    yield browser
    browser.close()
    playwright.stop()


class LiveServer:
    def __init__(self, app, base_url: str) -> None:
        self.app = app
        self.base_url = base_url


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    instance = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{instance / 'live.db'}"
    migrate_database(url, instance)
    app = create_app(app_config(url))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()


class Visitor:
    """Drives one page; every page it lands on is checked with axe-core."""

    def __init__(self, page, base_url: str, viewport: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.base_url = base_url
        self.viewport = viewport
        self.axe = Axe()
        self.navigated: list[str] = []
        self.checked: list[str] = []
        self.shots = 0
        page.on(
            "framenavigated",
            lambda frame: frame == page.main_frame and self.navigated.append(frame.url),
        )

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        self.check()
        return response

    def sign_in(self, email: str, password: str | None = None) -> None:
        """Sign in through the sign-in page, as staff do."""
        from tests.factories import DEFAULT_PASSWORD

        self.goto("/en/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password or DEFAULT_PASSWORD)
        self.submit(self.page.locator("main button[type=submit]"))

    def submit(self, locator) -> None:
        """Click something that loads a new page, then check that page."""
        with self.page.expect_navigation():
            locator.click()
        self.check()

    def check(self) -> None:
        self.page.wait_for_load_state("load")
        results = self.axe.run(self.page, options=AXE_OPTIONS)
        assert results.violations_count == 0, (
            f"axe on {self.page.url} at {self.viewport}:\n{results.generate_report()}"
        )
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{self.page.url} scrolls sideways by {overflow}px"
        self.checked.append(self.page.url)
        self._screenshot()

    def _screenshot(self) -> None:
        folder = os.environ.get("SCREENSHOT_DIR")
        if not folder:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        name = self.page.url.removeprefix(self.base_url).strip("/").replace("/", "_") or "root"
        self.shots += 1
        self.page.screenshot(
            path=str(Path(folder) / f"{self.viewport}-{name[:60]}-{self.shots}.png"),
            full_page=True,
        )

    def assert_every_page_checked(self) -> None:
        unchecked = [url for url in self.navigated if url not in self.checked]
        assert not unchecked, f"pages visited without an axe check: {unchecked}"


@pytest.fixture(params=DEFAULT_VIEWPORTS)
def visitor(request, chromium_browser, live_server) -> Iterator[Visitor]:
    width, height = VIEWPORTS[request.param]
    context = chromium_browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    visit = Visitor(page, live_server.base_url, request.param)
    yield visit
    context.close()
    with live_server.app.app_context():
        db.session.remove()
        empty_all_tables()
    visit.assert_every_page_checked()
