"""The result's status line is announced by screen readers (ui.widgets.STATUS_LIVE_HEAD, in the page's head):
in a real Chromium, the status line of a page is a polite, atomic live region while still empty, the same element
(not a new one, which would go unannounced) holds the "Model: ..." line after a run, and Gradio's progress timer
beside it stays outside the region."""

from __future__ import annotations

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import run_first_example

pytestmark = pytest.mark.browser
PAGE = "fill-mask"  # a small model: the quickest answer
LINE = '.block.model-status [data-testid="markdown"]'


def test_the_status_line_is_a_live_region_before_and_after_a_run(page, playground):
    panel = embed(page, playground, PAGE)
    line = panel.locator(LINE).first  # empty, so of no height: not "visible" to Playwright yet
    line.wait_for(state="attached")
    assert line.inner_text().strip() == ""
    assert (line.get_attribute("role"), line.get_attribute("aria-live"), line.get_attribute("aria-atomic")) == (
        "status", "polite", "true"), "the empty status line is not a live region (is STATUS_LIVE_HEAD in <head>?)"
    line.evaluate("element => { element.__pgBeforeRun = true; }")

    run_first_example(page, PAGE)
    announced = panel.get_by_role("status").filter(has_text="Model:")
    assert announced.count() == 1
    assert announced.evaluate("element => element.__pgBeforeRun === true"), "the status line was replaced"
    assert panel.locator("[aria-live] [data-testid='status-tracker']").count() == 0
