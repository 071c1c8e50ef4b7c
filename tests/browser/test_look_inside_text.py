""""Look inside" on the six text task tabs, in a real Chromium, as a person uses it: run the tab's first
example, open "Look inside" under the result, wait for its view, and check what it shows. Screenshots at
iframe size (800 x 600) and on a phone (390 x 844) go to tests/artifacts/<task>-inside.png and
<task>-inside-phone.png. Then: closing and reopening the block on the same result computes nothing again;
while it is open, a new result is looked into after it is shown.
"""

from __future__ import annotations

import pytest

from tests.browser.test_tabs import ERROR_TOAST, open_page, run_first_example

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
# What each view must contain once drawn (a CSS selector inside the view).
VIEWS = {
    "text-generation": ".pg-strip span[title^='p = ']",
    "code-completion": ".pg-strip span[title^='p = ']",
    "translation": ".pg-align .pg-out label",
    "summarization": ".pg-align .pg-out label",
    "question-answering": ".pg-strip span[title^='p = ']",
    "fill-mask": ".pg-bar",
}
# Fewer new tokens than the defaults: a random miniature never stops early, and the view waits for the end.
SETTINGS = {"text-generation": {"Max new tokens": 12}, "code-completion": {"Max new tokens": 12}}


def inside_block(panel):
    return panel.locator(".pg-inside").filter(visible=True).first


def open_inside(page, panel):
    """Open "Look inside" and return its view once drawn (or fail with the error shown)."""
    block = inside_block(panel)
    block.get_by_role("button", name="Look inside").click()
    status = block.locator(".pg-inside-status").filter(has_text="Computed in").first
    failed = page.locator(ERROR_TOAST).first
    status.or_(failed).wait_for()
    assert not failed.is_visible(), f"Look inside failed: {failed.inner_text()}"
    return block


@pytest.mark.parametrize("task_id", list(VIEWS))
def test_look_inside_the_first_examples_result(page, playground, artifacts, task_id):
    if task_id not in playground.task_ids:
        pytest.skip(f"the {task_id} tab is not in this app (PLAYGROUND_BROWSER_TASKS)")
    page.goto(f"{playground.url}embed/{task_id}")
    open_page(page, task_id)
    panel = page.locator(".pg-page:visible").first
    block = inside_block(panel)
    block.get_by_role("button", name="Look inside").wait_for()
    assert not block.locator(".pg-inside-view").is_visible()  # closed until asked: nothing computed
    for label, value in SETTINGS.get(task_id, {}).items():
        box = panel.locator(f"input[type=number][aria-label='number input for {label}']").first
        box.fill(str(value))
        box.press("Enter")
    run_first_example(page, task_id)
    block = open_inside(page, panel)
    view = block.locator(".pg-inside-view").first
    assert view.locator(VIEWS[task_id]).count() > 0, f"{task_id}: the view has no {VIEWS[task_id]}"
    assert "not" in block.locator(".pg-inside-caption").first.inner_text()  # says what it does not show
    block.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{task_id}-inside.png"))
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    block.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{task_id}-inside-phone.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{task_id}: the page is {overflow}px wider than a phone (wide views must scroll inside)"
