"""Every page fits the iframe a course page gives it: in the 800x600 embed view, the page's main button
(its first visible primary button) lies entirely above the fold before anyone scrolls, so a reader sees the
input, the button and where the result will appear on the first screen. A page with tabs of its own (CLIP's
three tasks, the attention page's two labs, ...) is measured once per tab, since each tab has its own main
button. One case per page of the registry, so a new page is measured without an edit; a screenshot of each
first screen goes to tests/artifacts/fit-<id>.png (fit-<id>-2.png, ... for the page's further tabs).
Each page is opened by its /embed/<id> link, as an iframe opens it, in one browser page reused for the module
(its cache warm); measuring waits for the app's load event and a still layout (tests/browser/waits.py).
"""

from __future__ import annotations

import pytest

from pipelines.core.registry import PAGES
from tests.browser.conftest import IFRAME, open_page
from tests.browser.waits import goto_loaded, settle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def iframe(browser):
    context = browser.new_context(viewport=IFRAME)
    context.set_default_timeout(60_000)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.id)
def test_main_button_is_above_the_fold_of_an_800x600_iframe(iframe, playground, artifacts, spec):
    if spec.id not in playground.task_ids:
        pytest.skip(f"the {spec.id} page is not in this app (PLAYGROUND_BROWSER_TASKS)")
    page = iframe
    goto_loaded(page, f"{playground.url}embed/{spec.id}")
    open_page(page, spec.id)
    panel = page.locator(".pg-page:visible").first
    panel.locator("button.primary").filter(visible=True).first.wait_for()
    settle(page)  # late layout (examples, plots, fonts) settles before measuring
    assert page.evaluate("window.scrollY") == 0, "the embed view opened scrolled"
    own_tabs = panel.locator("button[role=tab]").filter(visible=True).all_inner_texts()
    too_low = []
    for number, tab in enumerate(own_tabs or [None], 1):
        if number > 1:
            panel.get_by_role("tab", name=tab, exact=True).click()
            panel.get_by_role("tab", name=tab, exact=True).and_(page.locator("[aria-selected=true]")).wait_for()
            page.evaluate("window.scrollTo(0, 0)")
            settle(page)
        button = panel.locator("button.primary").filter(visible=True).first
        box = button.bounding_box()
        page.screenshot(path=str(artifacts / (f"fit-{spec.id}.png" if number == 1 else f"fit-{spec.id}-{number}.png")))
        below = box["y"] + box["height"] - IFRAME["height"]
        if below > 0:
            where = f" (tab {tab!r})" if tab else ""
            too_low.append(f"{button.inner_text().strip()!r}{where} ends {below:.0f}px below the fold")
    assert not too_low, f"{spec.id}: in an 800x600 iframe, " + "; ".join(too_low)
