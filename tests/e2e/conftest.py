"""A real browser (Debian's chromium, headless, driven by Playwright) against the live server.

No browser is downloaded: chromium comes from the system (`apt-get install chromium`, as
.ci/run does); MES_CHROMIUM points elsewhere. Without it the browser tests are skipped,
unless MES_REQUIRE_BROWSER=1 (CI), where a missing browser is an error.
Screenshots of the pages go to MES_SCREENSHOT_DIR (default test-artifacts/screenshots/).
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MES_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT_DIR = Path(os.environ.get("MES_SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots"))
PASSWORD = "e2e-pass-2026"


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("MES_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"MES_REQUIRE_BROWSER=1 but no chromium at {CHROMIUM}")
    skip = pytest.mark.skip(reason=f"no chromium at {CHROMIUM}: apt-get install chromium")
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) at 1280x800, its base URL the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_page(browser, live_server):
    """More pages for a test with several people at once (each its own session)."""
    contexts = []

    def make(width=1280, height=800):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """Saves the whole page as a reviewer's artifact."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def user_with_role(role: str, username: str | None = None, **extra):
    """A user of one of the product's groups, signing in with PASSWORD."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from mesproject.roles import STAFF_ROLES
    from mesproject.workplace.roles import roles_ensure

    roles_ensure()
    user = get_user_model().objects.create_user(
        username or role, password=PASSWORD, is_staff=role in STAFF_ROLES, **extra
    )
    user.groups.add(Group.objects.get(name=role))
    return user
