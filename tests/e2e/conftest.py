"""Browser fixtures: Debian's Chromium driven by Playwright (no browser download).

Screenshots go to `artifacts/screenshots/` (git-ignored); `screenshot(page, name)` saves one.
"""

import os
import re
import shutil
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import AvailabilityRuleFactory, ProviderFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run under one
# unless told the test is deliberately synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs it (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    # Playwright gives each launch a fresh, empty profile directory of its own.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(browser):
    """A fresh context per test; pass options through `new_context` for zones or viewports."""
    contexts = []

    def new_context(**options):
        # A browser asks for its locale's language (LocaleMiddleware); en-GB reads the site's 24-hour
        # English, so a test that wants en-US's 12-hour clock or German says so.
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield new_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(browser_context):
    return browser_context().new_page()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def clinic(db):
    """A New York provider open every day 09:00–17:00, bookable well past the next DST change."""
    provider = ProviderFactory(
        name="Hudson Dental",
        slug="hudson-dental",
        timezone="America/New_York",
        duration_minutes=30,
        max_advance_days=400,
        price=Decimal("100.00"),
        late_cancel_fee=Decimal("25.00"),
        free_cancel_hours=24,
    )
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(9), end_time=time(17))
    return provider
