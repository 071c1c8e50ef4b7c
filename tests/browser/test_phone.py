"""The app on a phone (390x844, touch), in a real Chromium: from the home page every page is reached by tapping
its group's tab and then its own tab, both on screen; no page scrolls sideways; every visible control is a
tap target of at least 24x24 CSS px (WCAG 2.2, 2.5.8; ui/keyboard.py sizes Gradio's small ones). One
full-page screenshot per page: tests/artifacts/phone-<id>.png.
The home page is opened once for the module and each page reached from where the last one left off, scrolled
back to the top, as a person taps through them (the page tab rows wrap: which tab was chosen before does not
change what is on screen).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pipelines.core.registry import GROUPS, PAGES
from tests.browser.conftest import open_page
from tests.browser.controls import SMALL_TARGETS
from tests.browser.waits import goto_loaded, settle

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}  # a common phone's CSS viewport (iPhone 12 to 15)
MIN_TARGET_PX = 24
GROUP_TAB = "#pg-tabs > .tab-wrapper [role=tab]"

# Gradio-internal controls allowed under 24 px, by (tag, CSS classes, aria-label or text), with the reason.
# Empty today: ui/keyboard.py grows every one found (copy icons, slider reset and number boxes, upload source
# icons, accordion headers, dropdown inputs, token remove buttons, the footer). Add here only what CSS cannot fix.
GRADIO_EXCEPTIONS: dict[tuple[str, str, str], str] = {}


@pytest.fixture(scope="module")
def phone(browser, playground):
    """One phone page for the module, opened once on the home page."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(60_000)
    page = context.new_page()
    goto_loaded(page, playground.url)
    page.locator(".pg-group-tabs [role=tab][aria-selected=true]").first.wait_for(state="attached")
    yield page
    context.close()


def tap_on_screen(locator, what: str) -> None:
    """Tap a tab once it is wholly on the phone's screen (Gradio lays a tab row out a frame or two after it
    shows); fail when it never is."""
    try:
        expect(locator).to_be_in_viewport(ratio=1)
    except AssertionError:
        raise AssertionError(f"{what} is not wholly on a phone's screen (hidden in a menu or cut off)") from None
    box = locator.bounding_box()
    assert box["width"] >= MIN_TARGET_PX and box["height"] >= MIN_TARGET_PX, f"{what} is too small to tap: {box}"
    locator.tap()


@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.id)
def test_each_page_is_reached_by_visible_tabs_fits_a_phone_and_has_big_enough_targets(phone, playground,
                                                                                         artifacts, spec):
    if spec.id not in playground.task_ids:
        pytest.skip(f"the {spec.id} page is not in this app (PLAYGROUND_BROWSER_TASKS)")
    page = phone
    page.evaluate("window.scrollTo(0, 0)")  # back to the top, where the tab rows are
    try:
        group = page.locator(GROUP_TAB, has_text=GROUPS[spec.group])
        tap_on_screen(group, f"the {GROUPS[spec.group]!r} group's tab")
        own = page.locator(f".pg-group-tabs [role=tab][data-tab-id='{spec.id}']")
        tap_on_screen(own, f"the {spec.title!r} tab")
        open_page(page, spec.id)
    except Exception:
        page.screenshot(path=str(artifacts / f"phone-{spec.id}-failed.png"), full_page=True)
        raise
    settle(page)  # the page's first paint after mounting
    page.screenshot(path=str(artifacts / f"phone-{spec.id}.png"), full_page=True)

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{spec.id}: the page is {width}px wide on a {PHONE['width']}px phone"
    small = [t for t in page.evaluate(SMALL_TARGETS, MIN_TARGET_PX)
             if (t["tag"], t["classes"], t["name"]) not in GRADIO_EXCEPTIONS]
    assert not small, f"{spec.id}: tap targets under {MIN_TARGET_PX}x{MIN_TARGET_PX} px: {small}"
