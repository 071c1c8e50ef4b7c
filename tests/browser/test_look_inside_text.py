""""Look inside" on the six text task tabs, in a real Chromium, as a person uses it: run the tab's first
example, open "Look inside" under the result, wait for its view, and check what it shows. Screenshots at
iframe size (800 x 600) and on a phone (390 x 844) go to tests/artifacts/<task>-inside.png and
<task>-inside-phone.png. Then: closing and reopening the block on the same result computes nothing again;
while it is open, a new result is looked into after it is shown.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import ERROR_TOAST, run_first_example
from tests.conftest import ForwardPasses

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
    embed(page, playground, task_id)
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


def test_the_open_block_follows_each_new_result_and_reopening_recomputes_nothing(page, playground):
    task_id = "fill-mask"
    embed(page, playground, task_id)
    panel = page.locator(".pg-page:visible").first
    block = inside_block(panel)
    block.get_by_role("button", name="Look inside").click()  # before any result: says what to do
    block.locator(".pg-inside-status").filter(has_text="No result to look into yet").first.wait_for()
    run_first_example(page, task_id)  # the block is open: it looks into the new result by itself
    status = block.locator(".pg-inside-status").filter(has_text="Computed in").first
    status.wait_for()
    view = block.locator(".pg-inside-view").first
    assert "chased" in view.inner_text()
    passes = ForwardPasses(playground.models.task(task_id).bundle().model)  # the tests' own hook on the model
    try:
        block.get_by_role("button", name="Look inside").click()  # close and reopen on the same result
        block.get_by_role("button", name="Look inside").click()
        page.wait_for_timeout(1500)
        assert passes.calls == 0 and "chased" in view.inner_text()  # drawn already: nothing computed again
        panel.get_by_label("Text").fill("Paris is the [MASK] of France.")
        panel.locator("button.primary").filter(visible=True).first.click()
        page.wait_for_function("el => el.innerText.includes('paris')", arg=view.element_handle(), timeout=60_000)
        assert "chased" not in view.inner_text()
        assert passes.calls == 2  # the answer, then one pass for the view
    finally:
        passes.remove()
