""""Look inside" on the five media task tabs (CLIP twice: labels and captions), in a real Chromium, as a person
uses it: run the tab's first example, open "Look inside" under the result, wait for its view, and check what it
shows (the picture drawn from its data: URI under one square per patch, the words on the waveform, one preview
per step, the patches of the series). Screenshots at iframe size (800 x 600) and on a phone (390 x 844) go to
tests/artifacts/<case>-inside.png and <case>-inside-phone.png; the page must not get wider than a phone.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import embed
from tests.browser.test_tabs import ERROR_TOAST, run_first_example

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
# Per case: the tab, its inner tab to open first (or None), what the view must contain once drawn (a CSS
# selector inside the view) and how many of it (None: at least one).
CASES = {
    "image-classification": ("image-classification", None, ".pg-overlay rect.pg-patch", 2 * 14 * 14),  # rollout,
    # and the last layer, over ViT/16's 14x14 patches
    "clip": ("clip", None, ".pg-overlay rect.pg-patch", 3 * 7 * 7),  # three labels, ViT-B/32's 7x7 patches
    "clip-captions": ("clip", "Rank captions for a picture", ".pg-overlay rect.pg-patch", 3 * 7 * 7),
    "speech": ("speech", None, "g.pg-word", None),  # one per transcribed word: the miniature's words are random
    "text-to-image": ("text-to-image", None, "figure.pg-step", 1),  # the first example runs one step
    "forecasting": ("forecasting", None, "g.pg-patch", 9),  # 144 monthly points in patches of 16
}
PICTURES = {"image-classification", "clip", "clip-captions", "text-to-image"}


def open_inside(page, panel):
    """Open "Look inside" and return the block once its view is drawn (or fail with the error shown)."""
    block = panel.locator(".pg-inside").filter(visible=True).first
    block.get_by_role("button", name="Look inside").click()
    done = block.locator(".pg-inside-status").filter(has_text="Computed in").first
    failed = page.locator(ERROR_TOAST).first
    done.or_(failed).wait_for()
    assert not failed.is_visible(), f"Look inside failed: {failed.inner_text()}"
    return block


@pytest.mark.parametrize("case", list(CASES))
def test_look_inside_the_first_examples_media_result(page, playground, artifacts, case):
    task_id, inner_tab, selector, count = CASES[case]
    embed(page, playground, task_id)
    panel = page.locator(".pg-page:visible").first
    if inner_tab:
        panel.get_by_role("tab", name=inner_tab).click()
    run_first_example(page, task_id)
    block = open_inside(page, panel)
    view = block.locator(".pg-inside-view")
    found = view.locator(selector).count()
    assert found == count if count is not None else found > 0, f"{case}: {found} of {selector}"
    if case in PICTURES:  # the data: URI pictures survive Gradio's HTML sanitising and decode
        widths = view.locator("img").evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert widths and all(w > 0 for w in widths), f"{case}: pictures not drawn {widths}"
    assert " not " in block.locator(".pg-inside-caption").first.inner_text()  # says what it does not show
    block.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{case}-inside.png"))
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    block.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{case}-inside-phone.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{case}: the page is {overflow}px wider than a phone (wide views must scroll inside)"
