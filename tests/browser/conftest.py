"""Browser journeys: the live server driven by the system Chromium through Playwright.

Never a downloaded browser: Debian's /usr/bin/chromium (with fonts-noto-cjk, or Chinese renders as
boxes). Screenshots go to artifacts/screenshots/, which git ignores. Any console error on a page
(a CSP violation shows up as one) fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import CHROMIUM, PASSWORD

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by the test
# itself (to arrange data and check results) are safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",  # native controls (file pickers, dialogs) as Chinese officials see them
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def new_page(browser, live_server, *, width=1366, height=768):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", base_url=live_server.url)
    # Generous: the live server is single-threaded and the national dashboard takes a while on a
    # busy two-core machine; a wait that long only ever ends early when the page is there.
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.errors = []

    def on_console(msg):
        # A page refused with 400/409 (a form with errors, a conflict) is logged by Chromium as a failed
        # load of the document itself: expected. Any other failed resource is a real error.
        document_refused = msg.text.startswith("Failed to load resource") and msg.location.get("url") == page.url
        if msg.type == "error" and not document_refused:
            page.errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return context, page


@pytest.fixture
def page(browser, live_server):
    context, page = new_page(browser, live_server)
    yield page
    context.close()
    assert page.errors == [], f"errors in the browser console: {page.errors}"


@pytest.fixture
def open_page(browser, live_server):
    """Open further pages (a second tab, a tablet) that are checked like `page`."""
    opened = []

    def factory(**kwargs):
        context, page = new_page(browser, live_server, **kwargs)
        opened.append((context, page))
        return page

    yield factory
    for context, page in opened:
        context.close()
        assert page.errors == [], f"errors in the browser console: {page.errors}"


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def use_language(page, live_server, language: str) -> None:
    """Read the pages in `language` ("zh-hans" or "en"), as the language switch would set it."""
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
