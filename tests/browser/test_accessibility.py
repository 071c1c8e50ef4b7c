"""axe-core (WCAG 2.0/2.1 A and AA rules) on every page, light and dark: no serious or critical violation that
the app can control.

One browser page opens the embed view once and switches between pages in place (a reload of the whole app
costs ~5 s here), auditing each page as loaded and each of its own sub-tabs, in light and then in dark; then
a few pages again with a result and "Look inside" open (their views are our HTML), in both themes. Dark is
switched in place as Gradio does for `?__theme=dark` (the `dark` class on <body>, which selects the theme's
dark variables); the home page (header, tab bars, footer) is opened with `?__theme=` itself, and its test
checks that both ways give the same page colours. Violations that only Gradio's markup causes are listed,
with the reason, in tests/browser/axe_known.py; anything else fails, listed with its element and colours.
Screenshots of the result pages: tests/artifacts/a11y-<page>-<theme>.png.
axe-core is pinned in tests/browser/package-lock.json (`npm ci --prefix tests/browser`, in make install-test).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipelines.core.registry import PAGES
from tests.browser.axe_audit import AXE_JS, BLOCKING, Finding, audit, axe_source, show_page
from tests.browser.axe_known import known_for
from tests.browser.conftest import IFRAME, _unavailable, open_page
from tests.browser.test_look_inside_text import open_inside
from tests.browser.test_tabs import run_first_example

pytestmark = pytest.mark.browser
THEMES = ("light", "dark")
GROUP = {spec.id: spec.group for spec in PAGES}
# Pages audited again with a result and "Look inside" open: a gr.Label and the attention maps (image
# classification), a gr.Dataframe and bars (fill-mask), the token alignment view and heatmap (translation).
WITH_RESULT = ("image-classification", "fill-mask", "translation")
# The page's own sub-tabs (CLIP's three tools, ...): the embed view hides the app's tab bars, not these.
SUB_TABS = ".pg-page:visible [role=tablist] button[role=tab]"
PAGE_COLOURS = "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"


def unexpected(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.impact in BLOCKING and known_for(f) is None]


def assert_clean(findings: list[Finding]) -> None:
    bad = unexpected(findings)
    assert not bad, f"{len(bad)} serious/critical axe violations the app can fix:\n" + "\n".join(
        f.line() for f in bad)


def set_theme(page, theme: str) -> None:
    # Then wait out the colour transitions it starts (Gradio's buttons fade their colours): axe measuring
    # mid-fade reports blends that no one sees for long. Only transitions: a spinner's animation never ends.
    page.evaluate("""async (dark) => {
      document.body.classList.toggle('dark', dark);
      await Promise.all(document.getAnimations().filter(a => a instanceof CSSTransition)
                        .map(a => a.finished.catch(() => null)));
    }""", theme == "dark")


def audit_both_themes(page, name: str, axe: str) -> list[Finding]:
    findings = []
    for theme in THEMES:
        set_theme(page, theme)
        findings += audit(page, f"{name} ({theme})", axe)
    set_theme(page, "light")
    return findings


def open_app(context, playground, query: str):
    page = context.new_page()
    first = playground.task_ids[0]
    page.goto(f"{playground.url}?tab={first}{query}")
    open_page(page, first)
    return page


@pytest.fixture(scope="module")
def axe_js() -> str:
    if not AXE_JS.is_file():  # a skip on a newcomer's machine, a failure in CI (as a missing Chromium is)
        _unavailable(f"{AXE_JS} is missing: run `npm ci --prefix tests/browser` (make install-test does)")
    return axe_source()


@pytest.fixture(scope="module")
def app(browser, playground, axe_js):
    """One embed-view page shared by the page tests, switched from page to page."""
    context = browser.new_context(viewport=IFRAME)
    context.set_default_timeout(60_000)
    yield SimpleNamespace(page=open_app(context, playground, "&embed=1&__theme=light"), axe=axe_js)
    context.close()


def go(app, playground, page_id: str):
    if page_id not in playground.task_ids:
        pytest.skip(f"the {page_id} page is not in this app (PLAYGROUND_BROWSER_TASKS)")
    show_page(app.page, GROUP[page_id], page_id)


@pytest.mark.parametrize("theme", THEMES)
def test_home_page(browser, playground, app, theme):
    context = browser.new_context(viewport=IFRAME)
    try:
        page = open_app(context, playground, f"&__theme={theme}")
        assert page.locator("#pg-header").is_visible()  # the full view: header, tab bars, footer
        assert page.evaluate("document.body.classList.contains('dark')") == (theme == "dark")
        # Switching in place (the page tests) shows the same colours as Gradio's own ?__theme= does.
        set_theme(app.page, theme)
        try:
            assert app.page.evaluate(PAGE_COLOURS) == page.evaluate(PAGE_COLOURS)
        finally:
            set_theme(app.page, "light")
        assert_clean(audit(page, f"home ({theme})", app.axe))
    finally:
        context.close()


def test_the_audit_catches_low_contrast_text(app, playground):
    """The check can fail: grey-on-white text added to the page is found, and is not excused as Gradio's."""
    page = app.page
    go(app, playground, playground.task_ids[0])
    page.evaluate("""() => { const p = document.createElement('p'); p.id = 'pg-axe-probe';
      p.textContent = 'too faint'; p.style.cssText = 'color:#bbbbbb;background:#ffffff;font-size:14px';
      [...document.querySelectorAll('.pg-page')].find(e => e.offsetParent !== null).prepend(p); }""")
    try:
        findings = audit(page, "probe", app.axe)
    finally:
        page.evaluate("document.getElementById('pg-axe-probe').remove()")
    assert [f.rule for f in unexpected(findings)] == ["color-contrast"], [f.line() for f in findings]


@pytest.mark.parametrize("page_id", [spec.id for spec in PAGES])
def test_page_as_loaded(app, playground, page_id):
    go(app, playground, page_id)
    page = app.page
    findings = audit_both_themes(page, page_id, app.axe)
    tabs = page.locator(SUB_TABS)
    for i in range(1, tabs.count()):  # the first sub-tab is the one open on load, audited above
        tabs.nth(i).click()
        page.locator(SUB_TABS).nth(i).and_(page.locator("[aria-selected=true]")).wait_for()
        findings += audit_both_themes(page, f"{page_id}, sub-tab {tabs.nth(i).inner_text().strip()!r}", app.axe)
    if tabs.count() > 1:
        tabs.first.click()  # as it was, for the result test
    assert_clean(findings)


@pytest.mark.parametrize("page_id", WITH_RESULT)
def test_page_with_a_result(app, playground, artifacts, page_id):
    go(app, playground, page_id)
    page = app.page
    run_first_example(page, page_id)
    block = open_inside(page, page.locator(".pg-page:visible").first)
    block.scroll_into_view_if_needed()
    findings = []
    for theme in THEMES:
        set_theme(page, theme)
        page.screenshot(path=str(artifacts / f"a11y-{page_id}-{theme}.png"))
        findings += audit(page, f"{page_id} with a result ({theme})", app.axe)
    set_theme(page, "light")
    assert_clean(findings)
