"""A real browser for the browser tests: Debian's Chromium driven by Playwright, one per session.

Playwright's own browser download cannot work here, so the system Chromium is used
(`apt-get install chromium`; scripts/system-packages.sh installs it for `make test`). Without it the
tests skip with the reason, except in CI (env CI=true), where a missing browser is a failure.
The app is launched once per session in tiny mode; screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipelines.core.registry import PAGES
from tests.conftest import ROOT, launch_app, tiny_settings

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Quiet, deterministic, offline: no GPU, no background downloads or sync, no QUIC.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-dev-shm-usage"]
IFRAME = {"width": 800, "height": 600}  # the size a course page gives the embedded tab


def chromium_path() -> str | None:
    explicit = os.environ.get("PLAYGROUND_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must run the browser tests: `make test` installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -r requirements-test.txt)")
    path = chromium_path()
    if path is None:
        _unavailable("no Chromium found: apt-get install chromium (or set PLAYGROUND_CHROMIUM)")
    with sync_playwright() as p:
        # A non-persistent context: Playwright gives each launch a fresh temporary profile directory.
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def playground():
    """The whole app (all ten tabs) in tiny mode, shared by the browser tests. While working on one
    tab, PLAYGROUND_BROWSER_TASKS="text-generation code-completion" builds only those."""
    only = os.environ.get("PLAYGROUND_BROWSER_TASKS", "").replace(",", " ").split() or None
    server = launch_app(tiny_settings(), only)
    server.task_ids = only or [spec.id for spec in PAGES]
    yield server
    server.demo.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=IFRAME)
    context.set_default_timeout(60_000)  # a tab's first request builds and loads its miniature
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def open_page(page, page_id: str) -> None:
    """Wait until the deep link has selected the page (in its group) and its panel shows."""
    page.locator(f".pg-group-tabs button[role=tab][data-tab-id='{page_id}'][aria-selected=true]").wait_for(
        state="attached")
    page.locator(".pg-page:visible").first.wait_for()


def embed(page, playground, page_id: str, query: str = ""):
    """Open `/embed/<page_id>?<query>` as an iframe would and return the page's panel; skip when the app was
    built without that page (PLAYGROUND_BROWSER_TASKS)."""
    if page_id not in playground.task_ids:
        pytest.skip(f"the {page_id} page is not in this app (PLAYGROUND_BROWSER_TASKS)")
    page.goto(f"{playground.url}embed/{page_id}" + (f"?{query}" if query else ""))
    open_page(page, page_id)
    return page.locator(".pg-page:visible").first
