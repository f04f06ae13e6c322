"""Playwright against pytest-django's live server, in Debian's Chromium."""

import importlib
import io
import threading
import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def browser_type_launch_args(chromium_path):
    return {
        "executable_path": chromium_path,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # English UI so the tests can find buttons by their label; the language switch has its own test.
    return {**browser_context_args, "viewport": VIEWPORT, "locale": "en-GB"}


class _InFlight:
    """Requests the live server is handling now (Django's request_started / request_finished)."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def started(self, **kwargs):
        with self.lock:
            self.count += 1

    def finished(self, **kwargs):
        with self.lock:
            self.count -= 1


_in_flight = _InFlight()


@pytest.fixture(autouse=True)
def _live_server_quiet_before_the_flush():
    """A landing page sends its read-depth beacon as it closes, so the live server may still be writing
    while pytest-django empties the database after the test: PostgreSQL then finds the TRUNCATE and the
    request's writes in a deadlock. Set up before `page` (autouse), this is torn down after the page has
    closed and before the database's flush: it waits for the last requests to finish."""
    from django.core.signals import request_finished, request_started

    request_started.connect(_in_flight.started, dispatch_uid="browser-in-flight-started")
    request_finished.connect(_in_flight.finished, dispatch_uid="browser-in-flight-finished")
    yield
    time.sleep(0.2)  # a beacon sent as the page closed is on its way
    deadline = time.monotonic() + 10
    while _in_flight.count > 0 and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def screenshot(request, page):
    """screenshot("name") writes docs/screenshots/name.png when pytest runs with --screenshots."""

    def take(name: str) -> None:
        if request.config.getoption("--screenshots"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    return take


@pytest.fixture
def data_migrations(transactional_db):
    """Put back the rows data migrations create (plan templates), which a live-server test's flush removes.

    serialized_rollback would do this, but its restore does not reach the database under Playwright's
    greenlets, so the (idempotent) migration functions run again instead.
    """
    from django.apps import apps

    importlib.import_module("campaigns.migrations.0003_standard_plan_templates").create(apps, None)


@pytest.fixture(scope="session")
def axe():
    return Axe()


@pytest.fixture
def assert_accessible(axe, page):
    def check() -> None:
        results = axe.run(page)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"

    return check


@pytest.fixture
def log_in(page, live_server):
    def log_in_as(username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/projects/")

    return log_in_as


def png(size=(1600, 800), color="#13294b") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()
